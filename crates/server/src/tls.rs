//! HTTPS on the server's one TCP port.
//!
//! Browsers allow camera and microphone only on secure pages, so a host
//! that colleagues reach over the LAN must speak TLS. With no certificate
//! configured the server makes a self-signed one on first start and keeps
//! it in the data directory: its fingerprint stays the same across restarts,
//! which is what desktop clients pin on first use. Someone who types
//! `http://` gets a redirect to `https://` on the same port instead of a
//! TLS alert.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::Config;
use crate::error::ServerError;

/// A client that opens a connection and says nothing is dropped after this.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the HTTP server to take them.
const ACCEPT_QUEUE: usize = 64;
/// The first byte of a TLS record carrying a handshake.
const TLS_HANDSHAKE: u8 = 0x16;
/// Largest plain-HTTP request head read to build the redirect.
const REDIRECT_HEAD_BYTES: usize = 8 * 1024;

/// The certificate the server presents, ready to serve.
#[derive(Clone)]
pub struct Identity {
    config: Arc<rustls::ServerConfig>,
    fingerprint: String,
    self_signed: bool,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("fingerprint", &self.fingerprint)
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The certificate for `config`, or `None` when the server speaks plain
    /// HTTP. Makes and stores a self-signed one when none is configured and
    /// none was made before.
    pub fn for_config(config: &Config) -> Result<Option<Self>, ServerError> {
        if !config.tls.enabled_for(config.listen.ip()) {
            return Ok(None);
        }
        let (cert_path, key_path, self_signed) = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone(), false),
            (None, None) => {
                let dir = config.data_dir.join("tls");
                let cert = dir.join("cert.pem");
                let key = dir.join("key.pem");
                if !cert.exists() || !key.exists() {
                    create_self_signed(&dir, &cert, &key, config.listen.ip())?;
                }
                (cert, key, true)
            }
            _ => {
                return Err(tls_error(
                    config.tls_cert.as_deref().or(config.tls_key.as_deref()),
                    "give both a certificate and its private key (tls_cert and tls_key), or neither"
                        .into(),
                ));
            }
        };
        Self::load(&cert_path, &key_path, self_signed).map(Some)
    }

    fn load(cert_path: &Path, key_path: &Path, self_signed: bool) -> Result<Self, ServerError> {
        let chain = CertificateDer::pem_file_iter(cert_path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| tls_error(Some(cert_path), format!("not a PEM certificate: {e}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| tls_error(Some(cert_path), "the file holds no certificate".into()))?;
        let fingerprint = fingerprint(leaf);
        let key = PrivateKeyDer::from_pem_file(key_path)
            .map_err(|e| tls_error(Some(key_path), format!("not a PEM private key: {e}")))?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(Some(cert_path), e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            tls_error(
                Some(key_path),
                format!("the key does not go with {}: {e}", cert_path.display()),
            )
        })?;
        let mut config = config;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            fingerprint,
            self_signed,
        })
    }

    /// SHA-256 of the certificate, as colon-separated upper-case hex (the
    /// form browsers show), which clients pin.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Whether the server made the certificate itself: browsers warn about
    /// it once, and clients should pin it.
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }
}

pub use confab_proto::tls_fingerprint as fingerprint;

fn tls_error(path: Option<&Path>, reason: String) -> ServerError {
    ServerError::Tls {
        path: path.map(Path::to_path_buf).unwrap_or_default(),
        reason,
    }
}

/// Makes a self-signed certificate for the names this machine is reached
/// by, and writes it with its key (readable by the owner only).
fn create_self_signed(
    dir: &Path,
    cert: &Path,
    key: &Path,
    listen: IpAddr,
) -> Result<(), ServerError> {
    let mut names = vec!["localhost".to_owned()];
    if let Some(host) = hostname() {
        names.push(host.clone());
        names.push(format!("{host}.local"));
    }
    let mut ips: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
    if !listen.is_unspecified() && !ips.contains(&listen) {
        ips.push(listen);
    }
    names.extend(ips.iter().map(IpAddr::to_string));
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| tls_error(Some(cert), e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Confab host");
    // Valid from yesterday (clocks disagree a little) for ten years.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let yesterday = today.yesterday().unwrap_or(today);
    params.not_before = rcgen::date_time_ymd(
        i32::from(yesterday.year()),
        yesterday.month().unsigned_abs(),
        yesterday.day().unsigned_abs(),
    );
    params.not_after = rcgen::date_time_ymd(
        i32::from(today.year()) + 10,
        today.month().unsigned_abs(),
        today.day().unsigned_abs().min(28),
    );
    let pair = rcgen::KeyPair::generate().map_err(|e| tls_error(Some(key), e.to_string()))?;
    let made = params
        .self_signed(&pair)
        .map_err(|e| tls_error(Some(cert), e.to_string()))?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServerError::Io {
            action: "write the TLS certificate",
            path,
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    write_private(key, pair.serialize_pem().as_bytes()).map_err(io_err(key))?;
    write_private(cert, made.pem().as_bytes()).map_err(io_err(cert))?;
    tracing::info!(path = %cert.display(), "made a self-signed TLS certificate");
    Ok(())
}

/// Writes atomically, mode 0600: a crash leaves no half key behind.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// A listener handing axum connections whose TLS handshake is done.
/// Handshakes run in their own tasks so a slow or silent client never holds
/// up the others.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl TlsListener {
    pub fn new(listener: TcpListener, identity: &Identity) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::clone(&identity.config));
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        let accept_task = tokio::spawn(accept_loop(listener, acceptor, tx));
        Ok(Self {
            local,
            ready,
            accept_task,
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        super::no_delay(&stream);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let handshake = async {
                let mut first = [0u8; 1];
                let peeked = stream.peek(&mut first).await?;
                if peeked == 1 && first[0] != TLS_HANDSHAKE {
                    redirect_to_https(stream).await?;
                    return Ok(None);
                }
                acceptor.accept(stream).await.map(Some)
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(Some(tls))) => {
                    let _ = ready.send((tls, remote)).await;
                }
                Ok(Ok(None)) => {}
                // Browsers drop the first handshake while their user looks
                // at the self-signed warning; that is not worth a warning.
                Ok(Err(e)) => tracing::debug!(%remote, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
            }
        });
    }
}

/// Answers a plain-HTTP request on the TLS port with a redirect to the same
/// host and path over HTTPS.
async fn redirect_to_https(mut stream: TcpStream) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < REDIRECT_HEAD_BYTES {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = match redirect_location(&String::from_utf8_lossy(&head)) {
        Some(location) => format!(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        None => "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\
                 Content-Length: 37\r\n\r\nThis server speaks HTTPS: use https://"
            .to_owned(),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// `https://<Host header><path>` for a plain request head, when it has both.
fn redirect_location(head: &str) -> Option<String> {
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?;
    let host = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim())
    })?;
    let safe = |s: &str| !s.is_empty() && !s.contains(|c: char| c.is_control() || c == ' ');
    (safe(host) && path.starts_with('/') && safe(path)).then(|| format!("https://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_request_is_redirected_to_the_same_host_and_path() {
        let head =
            "GET /j/abc-defg-hij?x=1 HTTP/1.1\r\nHost: office-pc:8443\r\nAccept: */*\r\n\r\n";
        assert_eq!(
            redirect_location(head).as_deref(),
            Some("https://office-pc:8443/j/abc-defg-hij?x=1")
        );
    }

    #[test]
    fn a_request_without_a_host_or_with_a_forged_one_gets_no_redirect() {
        assert_eq!(redirect_location("GET / HTTP/1.1\r\n\r\n"), None);
        assert_eq!(
            redirect_location("GET / HTTP/1.1\r\nHost: a\r\nb\r\n\r\n").as_deref(),
            Some("https://a/")
        );
        assert_eq!(
            redirect_location("GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            None
        );
        assert_eq!(redirect_location("garbage"), None);
    }

    #[test]
    fn fingerprints_are_colon_separated_upper_case_sha256() {
        let fp = fingerprint(b"certificate");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.chars().all(|c| c == ':' || c.is_ascii_hexdigit()));
        assert_eq!(fp, fp.to_uppercase());
    }
}
