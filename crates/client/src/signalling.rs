//! The WebSocket side: URLs, connecting, and the hello/join/resume
//! exchanges that come before the driver loop takes over.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use confab_proto::signal::{ClientMessage, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::error::ClientError;

/// A plain or TLS byte stream under the WebSocket.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(crate) type Ws = WebSocketStream<Box<dyn Io>>;

/// How long one connection attempt, or one awaited answer, may take.
pub(crate) const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// A server base URL (`http://host:port` or `https://host:port`), checked,
/// with the certificate fingerprint an `https://` server is trusted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: String,
    host: String,
    port: u16,
    tls: bool,
    pinned: Option<String>,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let bad = |reason| ClientError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let trimmed = url.trim().trim_end_matches('/');
        let (rest, default_port, tls) = if let Some(r) = trimmed.strip_prefix("http://") {
            (r, 80, false)
        } else if let Some(r) = trimmed.strip_prefix("https://") {
            (r, 443, true)
        } else {
            return Err(bad("it must start with http:// or https://"));
        };
        if rest.is_empty() || rest.contains('/') {
            return Err(bad(
                "it must be scheme, host and port only, like http://office-pc:8443",
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p.parse().map_err(|_| bad("the port is not a number"))?;
                (h.to_owned(), port)
            }
            _ => (rest.to_owned(), default_port),
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        Ok(Self {
            base: trimmed.to_owned(),
            host,
            port,
            tls,
            pinned: None,
        })
    }

    /// Trusts the `https://` server whose certificate has this SHA-256
    /// fingerprint (`AB:CD:…`).
    pub fn pinned(mut self, fingerprint: Option<String>) -> Self {
        self.pinned = fingerprint;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The signalling WebSocket's URL.
    pub fn ws_url(&self) -> String {
        format!("ws{}/ws", &self.base["http".len()..])
    }

    /// For an `https://` server: the SHA-256 fingerprint of the certificate
    /// it presents now, trusting nothing. Show it to the person (or compare
    /// it with one they were given) and pin it with [`Self::pinned`] /
    /// `JoinOptions::tls_fingerprint`; this is trust on first use.
    pub async fn fetch_fingerprint(&self) -> Result<String, ClientError> {
        if !self.tls {
            return Err(ClientError::Tls(format!(
                "{} is not an https:// server",
                self.base
            )));
        }
        let tcp = TcpStream::connect((self.bare_host(), self.port))
            .await
            .map_err(|e| ClientError::Connect {
                url: self.base.clone(),
                detail: e.to_string(),
            })?;
        let seen = crate::tls::first_use(tcp, self.bare_host());
        tokio::time::timeout(ANSWER_WAIT, seen)
            .await
            .map_err(|_| ClientError::Timeout(ANSWER_WAIT))?
    }

    fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The server's address as seen from here (for choosing the local
    /// interface the media socket binds to).
    pub fn resolve(&self) -> Result<SocketAddr, ClientError> {
        let host = self.bare_host();
        (host, self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| ClientError::Connect {
                url: self.base.clone(),
                detail: format!("cannot resolve {host}"),
            })
    }
}

pub(crate) async fn connect(url: &ServerUrl) -> Result<Ws, ClientError> {
    match tokio::time::timeout(ANSWER_WAIT, open(url)).await {
        Err(_) => Err(ClientError::Timeout(ANSWER_WAIT)),
        Ok(result) => result,
    }
}

async fn open(url: &ServerUrl) -> Result<Ws, ClientError> {
    let unreachable = |detail: String| ClientError::Connect {
        url: url.base().to_owned(),
        detail,
    };
    let tcp = TcpStream::connect((url.bare_host(), url.port))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    // Small messages both ways: Nagle's algorithm would hold each one
    // back for the server's delayed ACK (40 ms a hop on Linux).
    tcp.set_nodelay(true)
        .map_err(|e| unreachable(e.to_string()))?;
    let stream: Box<dyn Io> = if url.tls {
        let pinned = url.pinned.as_deref().ok_or_else(|| {
            ClientError::Tls(
                "an https:// server is trusted by its certificate fingerprint, printed when \
                 it starts and written to its ready file; none was given"
                    .into(),
            )
        })?;
        Box::new(crate::tls::connect_pinned(tcp, url.bare_host(), pinned).await?)
    } else {
        Box::new(tcp)
    };
    let (ws, _) = tokio_tungstenite::client_async(url.ws_url(), stream)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(ws)
}

pub(crate) async fn send(ws: &mut Ws, msg: &ClientMessage) -> Result<(), ClientError> {
    let text = serde_json::to_string(msg).map_err(|e| ClientError::Protocol(e.to_string()))?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|_| ClientError::ConnectionLost)
}

/// The next server message: `Ok(None)` when the socket closed.
pub(crate) async fn next(ws: &mut Ws) -> Result<Option<ServerMessage>, ClientError> {
    loop {
        match ws.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(None),
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(&t)
                    .map(Some)
                    .map_err(|e| ClientError::Protocol(format!("{e}: {t}")));
            }
            Some(Ok(_)) => continue,
        }
    }
}

/// Waits for the answer to a request: skips nothing, since before the
/// driver loop only welcome / joined / lobby / error can come.
pub(crate) async fn answer(ws: &mut Ws) -> Result<ServerMessage, ClientError> {
    match tokio::time::timeout(ANSWER_WAIT, next(ws)).await {
        Err(_) => Err(ClientError::Timeout(ANSWER_WAIT)),
        Ok(Ok(None)) => Err(ClientError::ConnectionLost),
        Ok(Ok(Some(ServerMessage::Error { code, message }))) => {
            Err(ClientError::Server { code, message })
        }
        Ok(other) => other.map(|m| m.expect("checked above")),
    }
}

/// Connects and says hello; returns the socket and the `welcome`.
pub(crate) async fn greet(url: &ServerUrl) -> Result<(Ws, ServerMessage), ClientError> {
    let mut ws = connect(url).await?;
    send(&mut ws, &ClientMessage::Hello { version: 1 }).await?;
    let welcome = answer(&mut ws).await?;
    if !matches!(welcome, ServerMessage::Welcome { .. }) {
        return Err(ClientError::Protocol(format!(
            "expected welcome, got {welcome:?}"
        )));
    }
    Ok((ws, welcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_give_the_websocket_url_and_bad_ones_say_why() {
        let u = ServerUrl::parse("http://127.0.0.1:8443/").unwrap();
        assert_eq!(u.ws_url(), "ws://127.0.0.1:8443/ws");
        assert_eq!(u.resolve().unwrap().port(), 8443);
        assert_eq!(
            ServerUrl::parse("http://office").unwrap().ws_url(),
            "ws://office/ws"
        );
        assert_eq!(
            ServerUrl::parse("http://[::1]:9000")
                .unwrap()
                .resolve()
                .unwrap(),
            "[::1]:9000".parse().unwrap()
        );
        let secure = ServerUrl::parse("https://office-pc:8443").unwrap();
        assert_eq!(secure.ws_url(), "wss://office-pc:8443/ws");
        for bad in [
            "office:8443",
            "http://",
            "http://h:x",
            "http://h:1/path",
            "ftp://h",
        ] {
            let err = ServerUrl::parse(bad).unwrap_err();
            assert!(matches!(err, ClientError::BadUrl { .. }), "{bad}: {err}");
        }
    }
}
