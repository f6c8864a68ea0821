//! `confab-server`: host mode without a window.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use confab_server::admin::{self, SetMode};
use confab_server::{Config, Overrides, Storage};
use tracing_subscriber::EnvFilter;

/// Runs the Confab conference server for an office, headless.
///
/// Settings come from flags, then CONFAB_* environment variables, then the
/// config file, then embedded defaults. Without a subcommand it serves.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    place: Place,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Where the server keeps its state; every subcommand needs it.
#[derive(Debug, Args)]
struct Place {
    /// TOML config file [default: <data dir>/confab.toml when it exists]
    #[arg(long, global = true, env = "CONFAB_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Where the database and other state live [default: $XDG_DATA_HOME/confab]
    #[arg(long, global = true, env = "CONFAB_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TCP address for HTTP and WebSocket; port 0 picks a free port [default: 127.0.0.1:8443]
    #[arg(long, env = "CONFAB_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// UDP port for media; 0 picks a free port [default: the TCP port]
    #[arg(long, env = "CONFAB_MEDIA_PORT", value_name = "PORT")]
    media_port: Option<u16>,
    /// How colleagues reach this server, for join links and invitations,
    /// like https://office-pc:8443 [default: the listening address]
    #[arg(long, env = "CONFAB_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Where clients send media when the UDP port is forwarded by a router;
    /// then the only media address given to clients
    #[arg(long, env = "CONFAB_MEDIA_PUBLIC_ADDR", value_name = "ADDR:PORT")]
    media_public_addr: Option<std::net::SocketAddr>,
    /// HTTPS on the TCP port: auto is on unless listening on loopback only
    #[arg(long, env = "CONFAB_TLS", value_name = "MODE")]
    tls: Option<confab_server::config::TlsMode>,
    /// PEM certificate chain to serve [default: a self-signed one, made on first start]
    #[arg(
        long,
        env = "CONFAB_TLS_CERT",
        value_name = "PATH",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(
        long,
        env = "CONFAB_TLS_KEY",
        value_name = "PATH",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Write {"http": "<base URL>", "media_udp": <port>} here once serving
    #[arg(long, env = "CONFAB_READY_FILE", value_name = "PATH")]
    ready_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the admin account
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Set the admin password, read as one line from standard input
    /// (asked for twice, hidden, when standard input is a terminal).
    /// Ends every admin session.
    SetPassword,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.place, cli.serve),
        Some(Command::Admin(AdminCommand::SetPassword)) => set_password(cli.place),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot listen on ...: Address in use".
            eprintln!("confab-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn serve(place: Place, args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&Overrides {
        config_file: place.config,
        data_dir: place.data_dir,
        listen: args.listen,
        media_port: args.media_port,
        public_url: args.public_url,
        media_public_addr: args.media_public_addr,
        tls: args.tls,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
    })?;
    runtime()?.block_on(async {
        let server = confab_server::start(&config).await?;
        if let Some(path) = &args.ready_file {
            server.write_ready_file(path)?;
        }
        let base = server.base_url();
        // Colleagues' apps list the host when it listens beyond loopback.
        let announced = confab_server::mdns::advertise(
            server.http_addr(),
            &confab_server::mdns::computer_name(),
        )
        .unwrap_or_else(|e| {
            tracing::warn!("not announced on the network: {e}");
            None
        });
        println!(
            "Confab host is running. Data: {}",
            config.data_dir.display()
        );
        println!("  Welcome page:  {base}/");
        println!("  Admin:         {base}/admin");
        println!("  Health:        {base}/api/health");
        println!("  Media (UDP):   port {}", server.media_port());
        if let Some(identity) = server.tls() {
            if identity.is_self_signed() {
                println!("  Certificate:   self-signed; browsers ask once whether to trust it.");
            }
            println!("  Fingerprint:   SHA-256 {}", identity.fingerprint());
        }
        if server.links_base() != base {
            println!("  Join links:    {}/j/<code>", server.links_base());
        }
        if config.listen.ip().is_unspecified() && config.public_url.is_none() {
            println!("  Listening on every interface; colleagues use this machine's LAN address.");
            println!("  Set --public-url to put that address into join links and invitations.");
        }
        if let Some(link) = server.admin_setup_link() {
            println!("Admin set-up: {link}");
            println!(
                "  (one-time link; or run `confab-server admin set-password`. \
                 A restart prints a new link.)"
            );
        }
        println!("Stop with Ctrl+C or SIGTERM.");
        shutdown_signal().await?;
        tracing::info!("shutting down");
        if let Some(announced) = announced {
            announced.withdraw();
        }
        server.stop().await?;
        anyhow::Ok(())
    })
}

fn set_password(place: Place) -> anyhow::Result<()> {
    let config = Config::load(&Overrides {
        config_file: place.config,
        data_dir: place.data_dir,
        ..Overrides::default()
    })?;
    let password = read_password()?;
    admin::check_password_rules(&password)?;
    let storage = Storage::open(&config.data_dir)?;
    runtime()?.block_on(admin::set_password(&storage, &password, SetMode::Replace))?;
    println!(
        "The admin password is set (user \"{}\") in {}. Every earlier admin session has ended.",
        admin::ADMIN_USERNAME,
        storage.path().display()
    );
    Ok(())
}

/// One line from standard input, without its line ending. On a terminal
/// the password is read without echo and asked for twice.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New admin password: ")
            .context("cannot read the password")?;
        admin::check_password_rules(&first)?;
        let again = rpassword::prompt_password("Same password again: ")
            .context("cannot read the password")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if line.is_empty() {
        bail!(
            "no password on standard input; pipe it in, like \
             `printf '%s\\n' \"$PASSWORD\" | confab-server admin set-password`"
        );
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

async fn shutdown_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("cannot watch Ctrl+C")?,
    }
    Ok(())
}
