//! `confab-server`: host mode without a window.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use confab_server::{Config, Overrides};
use tracing_subscriber::EnvFilter;

/// Runs the Confab conference server for an office, headless.
///
/// Settings come from flags, then CONFAB_* environment variables, then the
/// config file, then embedded defaults.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// TOML config file [default: <data dir>/confab.toml when it exists]
    #[arg(long, env = "CONFAB_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
    /// Where the database and other state live [default: $XDG_DATA_HOME/confab]
    #[arg(long, env = "CONFAB_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// TCP address for HTTP and WebSocket; port 0 picks a free port [default: 127.0.0.1:8443]
    #[arg(long, env = "CONFAB_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// UDP port for media; 0 picks a free port [default: the TCP port]
    #[arg(long, env = "CONFAB_MEDIA_PORT", value_name = "PORT")]
    media_port: Option<u16>,
    /// Write {"http": "<base URL>", "media_udp": <port>} here once serving
    #[arg(long, env = "CONFAB_READY_FILE", value_name = "PATH")]
    ready_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot listen on ...: Address in use".
            eprintln!("confab-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&Overrides {
        config_file: cli.config,
        data_dir: cli.data_dir,
        listen: cli.listen,
        media_port: cli.media_port,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = confab_server::start(&config).await?;
        if let Some(path) = &cli.ready_file {
            server.write_ready_file(path)?;
        }
        let base = server.base_url();
        println!(
            "Confab host is running. Data: {}",
            config.data_dir.display()
        );
        println!("  Welcome page:  {base}/");
        println!("  Health:        {base}/api/health");
        println!("  Media (UDP):   port {}", server.media_port());
        if config.listen.ip().is_unspecified() {
            println!("  Listening on every interface; colleagues use this machine's LAN address.");
        }
        println!("Stop with Ctrl+C or SIGTERM.");
        shutdown_signal().await?;
        tracing::info!("shutting down");
        server.stop().await?;
        anyhow::Ok(())
    })
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
