//! The signalling driver: one task per WebSocket on `/ws`, feeding the
//! sans-IO [`Hub`] and delivering what it returns.
//!
//! Each connection gets a bounded outbound queue. A client that does not
//! read its messages fills it and is disconnected rather than letting the
//! server buffer without bound or stall other meetings.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use confab_proto::PROTOCOL_VERSION;
use confab_proto::signal::{ClientMessage, ErrorCode, MAX_MESSAGE_BYTES, ServerMessage};
use confab_sfu::SfuError;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::http::AppState;
use crate::hub::{ConnId, Hub, JoinRequest, MeetingRecord, Now, Outbox};
use crate::media::Media;
use crate::metrics::Metrics;
use crate::ratelimit::{Limit, RateLimiter};

/// Messages queued per connection before it counts as not reading.
const OUTBOUND_QUEUE: usize = 256;
/// A connection must say hello within this time.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections (no message at all) are closed after this many
/// heartbeat timeouts.
const IDLE_TIMEOUTS: u32 = 2;
/// Protocol errors tolerated on one connection before it is closed.
const MAX_PROTOCOL_ERRORS: u32 = 20;

/// Limits applied per remote address.
#[derive(Debug, Clone, Copy)]
pub struct SignallingLimits {
    /// `join` and `resume` attempts.
    pub joins: Limit,
    /// Wrong passcodes; past this, joins from the address are refused for a while.
    pub wrong_passcodes: Limit,
    pub heartbeat_timeout: Duration,
}

impl Default for SignallingLimits {
    fn default() -> Self {
        Self {
            joins: Limit {
                max: 30,
                window: Duration::from_secs(10),
            },
            wrong_passcodes: Limit {
                max: 5,
                window: Duration::from_secs(60),
            },
            heartbeat_timeout: confab_license::DEFAULT_HEARTBEAT_TIMEOUT,
        }
    }
}

/// How a stored meeting answers a join.
#[derive(Debug, Clone)]
pub enum Lookup {
    Open(MeetingRecord),
    NotFound,
    /// Scheduled for later: a sentence saying when it opens.
    NotOpen(String),
}

enum Outgoing {
    Message(ServerMessage),
    Close(u16, &'static str),
}

/// Shared state of the signalling driver.
#[derive(Debug)]
pub struct Signalling {
    hub: Mutex<Hub>,
    queues: Mutex<HashMap<ConnId, mpsc::Sender<Outgoing>>>,
    join_limit: Mutex<RateLimiter>,
    passcode_limit: Mutex<RateLimiter>,
    next_conn: AtomicU64,
    heartbeat_interval: Duration,
    metrics: Metrics,
    /// The SFU, once the server started it (tests of signalling alone run
    /// without; offers are then refused).
    media: OnceLock<Arc<Media>>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Message(m) => f.debug_tuple("Message").field(m).finish(),
            Self::Close(code, why) => f.debug_tuple("Close").field(code).field(why).finish(),
        }
    }
}

impl Signalling {
    pub fn new(line_limit: u32, limits: SignallingLimits) -> Arc<Self> {
        Arc::new(Self {
            hub: Mutex::new(Hub::new(line_limit, limits.heartbeat_timeout)),
            queues: Mutex::new(HashMap::new()),
            join_limit: Mutex::new(RateLimiter::new(limits.joins)),
            passcode_limit: Mutex::new(RateLimiter::new(limits.wrong_passcodes)),
            next_conn: AtomicU64::new(1),
            heartbeat_interval: limits.heartbeat_timeout / 3,
            metrics: Metrics::default(),
            media: OnceLock::new(),
        })
    }

    /// Connects the SFU; offers are answered from then on.
    pub fn attach_media(&self, media: Arc<Media>) {
        if self.media.set(media).is_err() {
            tracing::warn!("media was already attached");
        }
    }

    /// The SFU, when the server runs one.
    pub fn media(&self) -> Option<&Arc<Media>> {
        self.media.get()
    }

    /// The hub, for the admin console and metrics. Never held across an await.
    pub fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Prometheus exposition, read from the hub now.
    pub fn render_metrics(&self) -> String {
        self.metrics.render(&self.hub())
    }

    /// Runs `f` on the hub and delivers what it returns.
    pub fn with_hub(&self, f: impl FnOnce(&mut Hub) -> Outbox) {
        let out = f(&mut self.hub());
        self.deliver(out);
    }

    /// Closes every signalling connection (server shutdown). Lines held
    /// stay in the hub; they go with the process.
    pub fn close_all(&self) {
        let queues: Vec<_> = self
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (_, queue) in queues {
            let _ = queue.try_send(Outgoing::Close(close_code::AWAY, "server shutting down"));
        }
    }

    /// Frees lines whose time ran out, for as long as the server runs.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let next = self.hub().next_timeout();
            let cap = Instant::now() + Duration::from_secs(1);
            let until = next.map_or(cap, |n| n.min(cap));
            tokio::time::sleep_until(until.into()).await;
            self.with_hub(|hub| hub.tick(Now::system()));
            let now = Instant::now();
            self.join_limit
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .prune(now);
            self.passcode_limit
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .prune(now);
        }
    }

    fn deliver(&self, out: Outbox) {
        if out.is_empty() {
            return;
        }
        // Media first: a client told `left` finds nothing of it in the SFU.
        if let Some(media) = self.media.get() {
            media.remove(&out.left);
        }
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        for (conn, msg) in out.messages {
            if let ServerMessage::Error { code, .. } = &msg {
                self.metrics.signalling_error(*code);
            }
            let Some(queue) = queues.get(&conn) else {
                continue;
            };
            if queue.try_send(Outgoing::Message(msg)).is_err() {
                // Not reading (or already gone): dropping the queue ends
                // its writer, which closes the socket; the reader then
                // reports the disconnect to the hub.
                tracing::warn!(conn, "outbound queue full; disconnecting");
                queues.remove(&conn);
            }
        }
        for conn in out.close {
            if let Some(queue) = queues.remove(&conn) {
                let _ = queue.try_send(Outgoing::Close(close_code::NORMAL, "bye"));
            }
        }
    }

    fn register(&self, addr: IpAddr) -> (ConnId, mpsc::Receiver<Outgoing>) {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(conn, tx);
        self.hub().connected(conn, addr);
        (conn, rx)
    }

    fn send(&self, conn: ConnId, msg: ServerMessage) {
        self.deliver(Outbox {
            messages: vec![(conn, msg)],
            ..Outbox::default()
        });
    }

    fn error(&self, conn: ConnId, code: ErrorCode, message: impl Into<String>) {
        self.send(
            conn,
            ServerMessage::Error {
                code,
                message: message.into(),
            },
        );
    }

    fn close(&self, conn: ConnId, code: u16, reason: &'static str) {
        let queue = self
            .queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&conn);
        if let Some(queue) = queue {
            let _ = queue.try_send(Outgoing::Close(code, reason));
        }
    }
}

/// `GET /ws`: upgrade to the signalling WebSocket.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    // The transport accepts more than the protocol allows, so an oversized
    // message gets a typed error instead of a bare transport failure.
    ws.max_message_size(4 * MAX_MESSAGE_BYTES)
        .max_frame_size(4 * MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| connection(socket, peer.ip(), state))
}

async fn connection(socket: WebSocket, addr: IpAddr, state: AppState) {
    let sig = Arc::clone(state.signalling());
    let (conn, mut outgoing) = sig.register(addr);
    let (mut sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(async move {
        while let Some(out) = outgoing.recv().await {
            let frame = match out {
                Outgoing::Message(msg) => {
                    Message::Text(serde_json::to_string(&msg).expect("serializable").into())
                }
                Outgoing::Close(code, reason) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        })))
                        .await;
                    return;
                }
            };
            if sink.send(frame).await.is_err() {
                return;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    });

    let mut session = Session {
        conn,
        addr,
        greeted: false,
        errors: 0,
    };
    let hello_deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
    let mut writer_done = false;
    loop {
        let deadline = if session.greeted {
            tokio::time::Instant::now() + idle_timeout(&sig)
        } else {
            hello_deadline
        };
        let frame = tokio::select! {
            frame = tokio::time::timeout_at(deadline, stream.next()) => frame,
            // The server closed this connection (leave, removal, a full
            // queue): stop reading rather than wait for the client.
            _ = &mut writer => {
                writer_done = true;
                break;
            }
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(_) if !session.greeted => {
                sig.error(conn, ErrorCode::OutOfOrder, "No hello within 10 seconds.");
                sig.close(conn, close_code::POLICY, "no hello");
                break;
            }
            Err(_) => {
                // Seated clients lose their line to the heartbeat timeout
                // long before this; it catches sockets that only idle.
                sig.close(conn, close_code::POLICY, "idle");
                break;
            }
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                if session.protocol_error(
                    &sig,
                    ErrorCode::InvalidMessage,
                    "Binary frames are not part of the protocol; send JSON text.",
                ) {
                    break;
                }
                continue;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(e)) => {
                // Oversized beyond the transport limit, or a broken socket.
                tracing::debug!(conn, error = %e, "websocket read failed");
                sig.error(
                    conn,
                    ErrorCode::MessageTooLarge,
                    format!("The connection failed: {e}"),
                );
                sig.close(conn, close_code::SIZE, "message too large");
                break;
            }
        };
        if text.len() > MAX_MESSAGE_BYTES {
            sig.error(
                conn,
                ErrorCode::MessageTooLarge,
                format!("Messages are limited to {} KiB.", MAX_MESSAGE_BYTES / 1024),
            );
            sig.close(conn, close_code::SIZE, "message too large");
            break;
        }
        match parse(&text) {
            Ok(msg) => {
                if session.dispatch(&state, &sig, msg).await {
                    break;
                }
            }
            Err((code, message)) => {
                if session.protocol_error(&sig, code, &message) {
                    break;
                }
            }
        }
    }
    sig.with_hub(|hub| hub.disconnected(conn, Now::system()));
    // Let the writer flush what is queued (a final error, a close frame).
    sig.queues
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&conn);
    if !writer_done {
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    }
}

/// An error and its sources, for a person reading why an offer failed.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn idle_timeout(sig: &Signalling) -> Duration {
    sig.heartbeat_interval * 3 * IDLE_TIMEOUTS
}

/// Parses a frame, telling an unknown `type` from a known one with bad fields.
fn parse(text: &str) -> Result<ClientMessage, (ErrorCode, String)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| (ErrorCode::InvalidMessage, format!("Not valid JSON: {e}.")))?;
    let ty = value
        .as_object()
        .and_then(|o| o.get("type"))
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            (
                ErrorCode::InvalidMessage,
                "A message must be a JSON object with a string `type`.".to_string(),
            )
        })?;
    if !ClientMessage::TYPES.contains(&ty.as_str()) {
        return Err((
            ErrorCode::UnknownType,
            format!("Unknown message type `{ty}`."),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        (
            ErrorCode::InvalidMessage,
            format!("Bad `{ty}` message: {e}."),
        )
    })
}

struct Session {
    conn: ConnId,
    addr: IpAddr,
    greeted: bool,
    errors: u32,
}

impl Session {
    /// Sends a protocol error; returns true when the connection must close.
    fn protocol_error(&mut self, sig: &Signalling, code: ErrorCode, message: &str) -> bool {
        sig.error(self.conn, code, message);
        self.errors += 1;
        if self.errors >= MAX_PROTOCOL_ERRORS {
            sig.close(self.conn, close_code::POLICY, "too many protocol errors");
            return true;
        }
        false
    }

    /// Handles one parsed message; returns true when the connection must close.
    async fn dispatch(&mut self, state: &AppState, sig: &Signalling, msg: ClientMessage) -> bool {
        let conn = self.conn;
        match msg {
            ClientMessage::Hello { version } if !self.greeted => {
                if version != PROTOCOL_VERSION {
                    sig.error(
                        conn,
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "This server speaks protocol version {PROTOCOL_VERSION}, not {version}. Update Confab."
                        ),
                    );
                    sig.close(conn, close_code::PROTOCOL, "unsupported version");
                    return true;
                }
                self.greeted = true;
                sig.send(
                    conn,
                    ServerMessage::Welcome {
                        version: PROTOCOL_VERSION,
                        server: format!("confab-server {}", env!("CARGO_PKG_VERSION")),
                        heartbeat_interval_ms: sig.heartbeat_interval.as_millis() as u32,
                    },
                );
                false
            }
            _ if !self.greeted => {
                self.protocol_error(sig, ErrorCode::OutOfOrder, "Send hello first.")
            }
            ClientMessage::Hello { .. } => {
                self.protocol_error(sig, ErrorCode::OutOfOrder, "Hello was already said.")
            }
            ClientMessage::Join {
                meeting,
                name,
                kind,
                passcode,
                host_key,
            } => {
                let req = JoinRequest {
                    name,
                    kind,
                    passcode,
                    host_key,
                };
                self.join(state, sig, &meeting, req).await;
                false
            }
            ClientMessage::Resume { token } => {
                if self.limited(sig) {
                    return false;
                }
                sig.with_hub(|hub| hub.resume(conn, &token, Now::system()));
                // Media events sent while the participant was away went
                // nowhere: tell the new connection where its media stands.
                let seated = sig.hub().seated(conn);
                if let (Some((pid, _)), Some(media)) = (seated, sig.media()) {
                    for msg in media.catch_up(pid) {
                        sig.send(conn, msg);
                    }
                }
                false
            }
            ClientMessage::Offer { sdp } => self.offer(sig, &sdp),
            ClientMessage::View {
                participant,
                width,
                height,
            } => self.view(sig, participant, width, height),
            msg => {
                sig.with_hub(|hub| hub.handle(conn, msg, Now::system()));
                false
            }
        }
    }

    /// An `offer`: the SFU answers it for the participant seated here.
    fn offer(&mut self, sig: &Signalling, sdp: &str) -> bool {
        let seated = sig.hub().seated(self.conn);
        let Some((pid, room)) = seated else {
            return self.protocol_error(
                sig,
                ErrorCode::OutOfOrder,
                "Join a meeting before sending an offer.",
            );
        };
        let Some(media) = sig.media() else {
            sig.error(
                self.conn,
                ErrorCode::Internal,
                "This server has no media transport running.",
            );
            return false;
        };
        match media.offer(pid, room, sdp) {
            Ok(answer) => {
                sig.send(self.conn, ServerMessage::Answer { sdp: answer });
                false
            }
            Err(e @ SfuError::NoCandidates) => {
                tracing::error!(error = %e, "cannot answer offers");
                sig.error(
                    self.conn,
                    ErrorCode::Internal,
                    "The server's media transport has no address to offer.",
                );
                false
            }
            Err(e) => {
                let message = format!("The offer was refused: {}.", error_chain(&e));
                self.protocol_error(sig, ErrorCode::InvalidMessage, &message)
            }
        }
    }

    /// A `view`: the tile size this participant shows another one at.
    fn view(&mut self, sig: &Signalling, publisher: u64, width: u32, height: u32) -> bool {
        let seated = sig.hub().seated(self.conn);
        let Some((pid, _)) = seated else {
            return self.protocol_error(
                sig,
                ErrorCode::OutOfOrder,
                "Join a meeting before sending that.",
            );
        };
        let Some(media) = sig.media() else {
            return false;
        };
        if media.set_view(pid, publisher, width, height).is_err() {
            return self.protocol_error(
                sig,
                ErrorCode::OutOfOrder,
                "Send an offer before saying how you show others.",
            );
        }
        false
    }

    /// Refuses when this address joins too often or guessed too many passcodes.
    fn limited(&self, sig: &Signalling) -> bool {
        let now = Instant::now();
        let blocked = sig
            .passcode_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check(self.addr, now)
            .err()
            .map(|wait| {
                format!(
                    "Too many wrong passcodes from your address. Try again in {} seconds.",
                    wait.as_secs().max(1)
                )
            })
            .or_else(|| {
                sig.join_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .attempt(self.addr, now)
                    .err()
                    .map(|wait| {
                        format!(
                            "Too many join attempts from your address. Try again in {} seconds.",
                            wait.as_secs().max(1)
                        )
                    })
            });
        match blocked {
            Some(message) => {
                sig.error(self.conn, ErrorCode::RateLimited, message);
                true
            }
            None => false,
        }
    }

    async fn join(&mut self, state: &AppState, sig: &Signalling, code: &str, req: JoinRequest) {
        let conn = self.conn;
        if sig.hub().is_placed(conn) {
            sig.error(
                conn,
                ErrorCode::OutOfOrder,
                "This connection is already in a meeting. Leave it first.",
            );
            return;
        }
        if self.limited(sig) {
            return;
        }
        let record = match state.lookup_meeting(code).await {
            Ok(Lookup::Open(record)) => record,
            Ok(Lookup::NotFound) => {
                sig.error(
                    conn,
                    ErrorCode::MeetingNotFound,
                    format!("There is no meeting with the code {code}. Check the invitation."),
                );
                return;
            }
            Ok(Lookup::NotOpen(when)) => {
                sig.error(conn, ErrorCode::MeetingNotOpen, when);
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "meeting lookup failed");
                sig.error(
                    conn,
                    ErrorCode::Internal,
                    "The server could not look up that meeting. Try again.",
                );
                return;
            }
        };
        let mut hub = sig.hub();
        let out = hub.join(conn, req, &record, Now::system());
        drop(hub);
        if out.first_error() == Some(ErrorCode::WrongPasscode) {
            sig.passcode_limit
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(self.addr, Instant::now());
        }
        sig.deliver(out);
    }
}
