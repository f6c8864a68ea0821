//! Decoded video from Rust to the webview: a loopback-only WebSocket.
//!
//! WebKitGTK has no WebRTC, so pictures are made in Rust and drawn by the
//! page with WebGL. Producers [`FrameHub::publish`] frames on named streams
//! ("self" for the camera preview, a participant id later). The page opens
//! `ws://127.0.0.1:<port>/?token=<token>` (both from the `frame_socket`
//! command), subscribes each tile to a stream with its size, and gets each
//! frame scaled to fit that tile (see [`wire`] for the messages).
//!
//! Latest frame wins: a stream is a `watch` slot holding only the newest
//! frame, and each subscription has one frame in flight: it sends a frame
//! and waits for the page's ack before sending the newest one. A slow page
//! therefore skips frames and never builds a queue (not in the app, not in
//! the browser's socket buffer); the sequence number in each header says
//! how many it skipped.
//!
//! The listener binds 127.0.0.1 on a free port and refuses any handshake
//! without this launch's random token, so other local programs and web
//! pages cannot watch the camera.

pub mod wire;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use confab_media::VideoFrame;
use confab_media::video::{FramePool, Scaler};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use wire::{FrameHeader, HEADER_LEN, Notice, RequestError};

/// The newest frame of a stream and how many frames the stream has had.
pub(crate) type Slot = Option<(u32, Arc<VideoFrame>)>;

/// Named streams of frames, newest only.
#[derive(Debug, Default)]
pub struct FrameHub {
    streams: Mutex<HashMap<String, watch::Sender<Slot>>>,
}

impl FrameHub {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<Slot>>> {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sender(&self, stream: &str) -> watch::Sender<Slot> {
        self.lock()
            .entry(stream.to_owned())
            .or_insert_with(|| watch::channel(None).0)
            .clone()
    }

    /// Replaces the stream's frame; subscribers that are still sending the
    /// previous one will skip straight to this one.
    pub fn publish(&self, stream: &str, frame: Arc<VideoFrame>) {
        self.sender(stream).send_modify(|slot| {
            let sequence = slot.as_ref().map_or(0, |(n, _)| n.wrapping_add(1));
            *slot = Some((sequence, frame));
        });
    }

    /// Forgets the stream's last frame (its device stopped), so a tile that
    /// subscribes later shows nothing rather than a stale picture.
    pub fn clear(&self, stream: &str) {
        if let Some(sender) = self.lock().get(stream) {
            sender.send_replace(None);
        }
    }

    pub(crate) fn subscribe(&self, stream: &str) -> watch::Receiver<Slot> {
        self.sender(stream).subscribe()
    }
}

/// Where the page connects; handed to it by the `frame_socket` command.
#[derive(Debug, Clone)]
pub struct FrameSocketAddr {
    pub port: u16,
    pub token: String,
}

/// The running frame socket. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FrameServer {
    addr: SocketAddr,
    token: String,
    accept: JoinHandle<()>,
}

impl Drop for FrameServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FrameServer {
    /// Binds 127.0.0.1 on a free port with a fresh random token.
    pub async fn start(hub: Arc<FrameHub>) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let token = random_token()?;
        let expected = token.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (hub, token) = (Arc::clone(&hub), expected.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve_connection(tcp, hub, &token).await {
                        tracing::debug!("frame socket connection ended: {e}");
                    }
                });
            }
        });
        tracing::info!(%addr, "frame socket listening");
        Ok(Self {
            addr,
            token,
            accept,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn socket(&self) -> FrameSocketAddr {
        FrameSocketAddr {
            port: self.addr.port(),
            token: self.token.clone(),
        }
    }
}

fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The token from `/?token=...`, compared without an early exit so timing
/// does not reveal how much of a guess was right.
fn token_matches(request: &Request, expected: &str) -> bool {
    let given = request
        .uri()
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("token="))
        .unwrap_or("");
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

type Sink = Arc<tokio::sync::Mutex<SplitSink<WebSocketStream<TcpStream>, Message>>>;

async fn serve_connection(
    tcp: TcpStream,
    hub: Arc<FrameHub>,
    token: &str,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    tcp.set_nodelay(true)?;
    // The refusal's type is tungstenite's handshake callback's, size and all.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| {
        if token_matches(request, token) {
            Ok(response)
        } else {
            let mut refusal = ErrorResponse::new(Some("wrong or missing token".into()));
            *refusal.status_mut() = StatusCode::FORBIDDEN;
            Err(refusal)
        }
    };
    let ws = tokio_tungstenite::accept_hdr_async(tcp, check).await?;
    let (sink, mut incoming) = ws.split();
    let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
    let mut tiles: HashMap<u32, (JoinHandle<()>, Arc<Notify>)> = HashMap::new();
    while let Some(message) = incoming.next().await {
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        if let Err(refused) = handle_request(&text, &hub, &sink, &mut tiles) {
            let notice = Notice::Error {
                message: refused.to_string(),
            };
            let json = serde_json::to_string(&notice).expect("notices serialize");
            sink.lock()
                .await
                .send(Message::Text(Utf8Bytes::from(json)))
                .await?;
        }
    }
    for (task, _) in tiles.into_values() {
        task.abort();
    }
    Ok(())
}

fn handle_request(
    text: &str,
    hub: &FrameHub,
    sink: &Sink,
    tiles: &mut HashMap<u32, (JoinHandle<()>, Arc<Notify>)>,
) -> Result<(), RequestError> {
    match wire::parse_request(text)? {
        wire::Request::Subscribe {
            tile,
            stream,
            width,
            height,
        } => {
            if !tiles.contains_key(&tile) && tiles.len() >= wire::MAX_TILES {
                return Err(RequestError::TooManyTiles);
            }
            let acks = Arc::new(Notify::new());
            let sender = TileSender::new(tile, (width, height));
            let frames = hub.subscribe(&stream);
            let task = tokio::spawn(sender.run(frames, Arc::clone(sink), Arc::clone(&acks)));
            if let Some((old, _)) = tiles.insert(tile, (task, acks)) {
                old.abort();
            }
        }
        wire::Request::Ack { tile } => {
            if let Some((_, acks)) = tiles.get(&tile) {
                acks.notify_one();
            }
        }
        wire::Request::Unsubscribe { tile } => {
            if let Some((old, _)) = tiles.remove(&tile) {
                old.abort();
            }
        }
    }
    Ok(())
}

/// Sends one tile its stream, scaled to fit.
struct TileSender {
    tile: u32,
    size: (u32, u32),
    scaler: Option<Scaler>,
    pool: FramePool,
}

impl TileSender {
    fn new(tile: u32, size: (u32, u32)) -> Self {
        Self {
            tile,
            size,
            scaler: None,
            pool: FramePool::new(2),
        }
    }

    async fn run(mut self, mut frames: watch::Receiver<Slot>, sink: Sink, acks: Arc<Notify>) {
        // A frame already there is sent at once: a new tile shows a picture
        // without waiting for the next capture.
        frames.mark_changed();
        while frames.changed().await.is_ok() {
            let Some((sequence, frame)) = frames.borrow_and_update().clone() else {
                continue;
            };
            let message = match self.encode(sequence, &frame) {
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!("frame for tile {} not sent: {e}", self.tile);
                    continue;
                }
            };
            if sink
                .lock()
                .await
                .send(Message::Binary(message.into()))
                .await
                .is_err()
            {
                return;
            }
            // While the page draws, newer frames replace each other in the
            // slot: that is where a slow page's frames are skipped.
            let _ = tokio::time::timeout(wire::ACK_TIMEOUT, acks.notified()).await;
        }
    }

    /// Header and pixels, scaled to fit the tile.
    fn encode(
        &mut self,
        sequence: u32,
        frame: &VideoFrame,
    ) -> Result<Vec<u8>, confab_media::video::VideoError> {
        let src = (frame.width(), frame.height());
        let out = wire::fit(src, self.size);
        let header = FrameHeader {
            tile: self.tile,
            width: out.0 as u16,
            height: out.1 as u16,
            sequence,
            timestamp_ms: frame.timestamp.as_millis() as u32,
        };
        let mut message = Vec::with_capacity(HEADER_LEN + VideoFrame::byte_len(out.0, out.1));
        header.write(&mut message);
        if out == src {
            message.extend_from_slice(frame.data());
            return Ok(message);
        }
        let scaler = match &mut self.scaler {
            Some(s) if s.output_size() == out && s.input_size() == src => s,
            slot => slot.insert(Scaler::new(src, out)?),
        };
        let mut scaled = self.pool.get(out.0, out.1, frame.timestamp)?;
        scaler.scale(frame, &mut scaled)?;
        message.extend_from_slice(scaled.data());
        Ok(message)
    }
}

#[cfg(test)]
mod tests;
