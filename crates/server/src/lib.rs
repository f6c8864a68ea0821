//! Confab host mode: the office's conference server.
//!
//! [`start`] binds the HTTP/WebSocket listener and the media UDP port, opens
//! the database and serves until [`RunningServer::stop`]. The `confab-server`
//! binary and the desktop app's host mode both go through it, so they behave
//! the same.

pub mod admin;
mod assets;
mod background;
pub mod config;
mod error;
pub mod http;
pub mod hub;
pub mod ics;
pub mod licence;
pub mod mdns;
pub mod media;
pub mod meetings;
pub mod metrics;
mod pages;
pub mod ratelimit;
pub mod storage;
pub mod time;
pub mod tls;
pub mod usage;
pub mod ws;

#[cfg(test)]
mod testing;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::serve::ListenerExt;
use confab_proto::ReadyFile;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Config, Overrides};
pub use error::ServerError;
pub use http::{AppOptions, AppState};
pub use storage::Storage;

/// A server that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    http_addr: SocketAddr,
    tls: Option<tls::Identity>,
    media: Arc<media::Media>,
    media_task: JoinHandle<()>,
    links_base: String,
    admin_setup_link: Option<String>,
    state: AppState,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

/// Opens storage, binds both ports and starts serving in the background.
pub async fn start(config: &Config) -> Result<RunningServer, ServerError> {
    start_with(config, AppOptions::default()).await
}

/// [`start`] with the HTTP side's options given (tests tighten limits).
pub async fn start_with(
    config: &Config,
    options: AppOptions,
) -> Result<RunningServer, ServerError> {
    let storage = {
        let dir = config.data_dir.clone();
        tokio::task::spawn_blocking(move || Storage::open(&dir))
            .await
            .expect("storage open task panicked")?
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            proto: "TCP",
            addr: config.listen,
            source,
        })?;
    let http_addr = listener.local_addr().map_err(ServerError::Serve)?;
    let tls = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || tls::Identity::for_config(&config))
            .await
            .expect("TLS set-up task panicked")?
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Media gets its own UDP socket now so the port is reserved and known
    // from the first start; the SFU takes it over.
    let media_addr = SocketAddr::new(config.listen.ip(), config.media_port);
    let media = UdpSocket::bind(media_addr)
        .await
        .map_err(|source| ServerError::Bind {
            proto: "UDP",
            addr: media_addr,
            source,
        })?;

    // Links in invitations must work for colleagues, so an operator who
    // listens on every interface names the address they use.
    let links_base = config
        .public_url
        .clone()
        .unwrap_or_else(|| local_base_url(scheme, http_addr));
    let licence = {
        let storage = storage.clone();
        tokio::task::spawn_blocking(move || {
            licence::current_status(&storage, confab_license::Timestamp::now())
        })
        .await
        .expect("licence task panicked")?
    };
    tracing::info!("{licence}");
    let state = http::AppState::with_options(storage.clone(), links_base.clone(), options);
    let signalling = Arc::clone(state.signalling());
    signalling.hub().set_line_limit(licence.seat_limit());
    let admin_setup_link = state.admin_setup_link().await?;
    let (media, media_task) =
        media::Media::start(media, Arc::clone(&signalling), config.media_public_addr)
            .map_err(ServerError::Serve)?;
    let background = vec![
        tokio::spawn(Arc::clone(&signalling).run_timers()),
        tokio::spawn(background::sample_usage(
            storage.clone(),
            Arc::clone(&signalling),
        )),
        tokio::spawn(background::watch_licence(storage, Arc::clone(&signalling))),
    ];
    // The admin login limits attempts per client address, which handlers
    // read from `ConnectInfo`.
    let app = http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (shutdown, stop_rx) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stop_rx.await;
    };
    let task = match &tls {
        Some(identity) => {
            // `tap_io` gives the TLS listener axum's `ConnectInfo<SocketAddr>`.
            let listener = tls::TlsListener::new(listener, identity)
                .map_err(ServerError::Serve)?
                .tap_io(|_| ());
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(listener.tap_io(|tcp| no_delay(tcp)), app)
                .with_graceful_shutdown(stopped)
                .await
        }),
    };
    tracing::info!(%http_addr, media_udp = %media.local_addr(), "serving");
    Ok(RunningServer {
        http_addr,
        tls,
        media,
        media_task,
        links_base,
        admin_setup_link,
        state,
        shutdown,
        task,
        background,
    })
}

/// Base URL a program on this machine can connect to. A wildcard bind is
/// reached through loopback.
fn local_base_url(scheme: &str, addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

impl RunningServer {
    /// The hub and signalling driver, for the embedding app and tests.
    pub fn signalling(&self) -> &Arc<ws::Signalling> {
        self.state.signalling()
    }

    /// The database, for the embedding app (it creates meetings for its
    /// own host mode).
    pub fn storage(&self) -> &Storage {
        self.state.storage()
    }

    /// Address the HTTP listener is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// UDP port carrying media.
    pub fn media_port(&self) -> u16 {
        self.media.local_addr().port()
    }

    /// The SFU driver, for the embedding app and tests.
    pub fn media(&self) -> &Arc<media::Media> {
        &self.media
    }

    /// Base URL a program on this machine can connect to. A wildcard bind
    /// is reached through loopback.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        local_base_url(scheme, self.http_addr)
    }

    /// The certificate served, when the server speaks HTTPS.
    pub fn tls(&self) -> Option<&tls::Identity> {
        self.tls.as_ref()
    }

    /// Start of the links the server hands out (join links, invitations):
    /// the configured public URL, else [`RunningServer::base_url`].
    pub fn links_base(&self) -> &str {
        &self.links_base
    }

    /// While no admin password is set: the one-time link that sets it,
    /// made fresh at this start. Print it for the operator.
    pub fn admin_setup_link(&self) -> Option<&str> {
        self.admin_setup_link.as_deref()
    }

    /// Lines in use and the licensed limit, right now.
    pub fn lines(&self) -> (u32, u32) {
        let hub = self.signalling().hub();
        (hub.lines_in_use(), hub.line_limit())
    }

    /// The installed licence as the admin console shows it.
    pub async fn licence_info(&self) -> Result<confab_proto::LicenceInfo, ServerError> {
        let storage = self.state.storage().clone();
        let status = tokio::task::spawn_blocking(move || {
            licence::current_status(&storage, confab_license::Timestamp::now())
        })
        .await
        .expect("licence task panicked")?;
        Ok(licence::info(&status))
    }

    /// Installs a licence file as the admin console does: a refused file
    /// changes nothing, an accepted one takes effect at once (nobody is
    /// dropped if it has fewer lines than are in use).
    pub async fn install_licence(
        &self,
        file: Vec<u8>,
    ) -> Result<confab_proto::LicenceInfo, licence::InstallError> {
        let storage = self.state.storage().clone();
        let status = tokio::task::spawn_blocking(move || {
            licence::install(&storage, &file, confab_license::Timestamp::now())
        })
        .await
        .expect("licence task panicked")?;
        tracing::warn!("licence installed: {status}");
        self.signalling().hub().set_line_limit(status.seat_limit());
        Ok(licence::info(&status))
    }

    /// The document written to `--ready-file`.
    pub fn ready(&self) -> ReadyFile {
        ReadyFile {
            http: self.base_url(),
            media_udp: self.media_port(),
            tls_fingerprint: self.tls.as_ref().map(|t| t.fingerprint().to_owned()),
        }
    }

    /// Writes the ready file atomically: a reader sees no file or a whole one.
    pub fn write_ready_file(&self, path: &Path) -> Result<(), ServerError> {
        let io_err = |source| ServerError::Io {
            action: "write the ready file",
            path: path.to_path_buf(),
            source,
        };
        let json = serde_json::to_vec(&self.ready()).expect("ReadyFile serializes");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json).map_err(io_err)?;
        std::fs::rename(&tmp, path).map_err(io_err)
    }

    /// Stops accepting, lets open requests finish, and returns once done.
    pub async fn stop(self) -> Result<(), ServerError> {
        // Open WebSockets would hold graceful shutdown forever: tell every
        // client we are going away first.
        self.state.signalling().close_all();
        for task in &self.background {
            task.abort();
        }
        self.media_task.abort();
        background::record_usage(self.state.storage(), self.state.signalling()).await;
        // The receiver is gone only if the serve task already ended; its
        // result is what the join below reports.
        let _ = self.shutdown.send(());
        match self.task.await {
            Ok(result) => result.map_err(ServerError::Serve),
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        }
    }
}

/// Turns off Nagle's algorithm on a connection. Signalling is small
/// messages both ways; with Nagle on, one waiting for the peer's delayed
/// ACK cost 40 ms per hop of an offer/answer exchange.
fn no_delay(tcp: &tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!("could not turn off Nagle's algorithm: {e}");
    }
}
