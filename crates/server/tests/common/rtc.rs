//! A media client for real-socket tests: the SFU's test participant
//! (`confab_sfu::test_client`) on its own UDP socket on loopback, driven
//! by a tokio task that sends audio every 20 ms and video every 33 ms.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use confab_proto::signal::{ClientMessage, ServerMessage};
use confab_sfu::test_client::Client as Peer;
pub use confab_sfu::test_client::Received;
use str0m::change::SdpPendingOffer;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::Client;

/// Overall bound for media to flow; loopback connects in well under a second.
pub const MEDIA_WAIT: Duration = Duration::from_secs(8);

pub fn you(msg: &ServerMessage) -> u64 {
    match msg {
        ServerMessage::Joined { you, .. } => you.id,
        other => panic!("expected joined, got {other:?}"),
    }
}

/// Sends the offer, applies the answer, starts the media client.
pub async fn connect_media(ws: &mut Client, slots: usize) -> MediaClient {
    let (mut media, sdp) = MediaClient::offer(slots).await;
    ws.send(&ClientMessage::Offer { sdp }).await;
    let answer = ws
        .recv_until(|m| {
            matches!(
                m,
                ServerMessage::Answer { .. } | ServerMessage::Error { .. }
            )
        })
        .await;
    let ServerMessage::Answer { sdp } = answer else {
        panic!("expected an answer, got {answer:?}");
    };
    assert!(sdp.contains("a=ice-lite"), "the server is ICE-lite: {sdp}");
    media.accept(&sdp);
    media
}

/// Waits until `done` holds of what `media` received, or panics with it.
pub async fn wait_for(media: &MediaClient, what: &str, done: impl Fn(&MediaClient) -> bool) {
    let give_up = Instant::now() + MEDIA_WAIT;
    while !done(media) {
        assert!(
            Instant::now() < give_up,
            "no {what} in time: {:?}",
            media.state().received.keys()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn gaps(packets: &[Received]) -> Vec<(u64, u64)> {
    packets
        .windows(2)
        .filter(|w| w[1].seq != w[0].seq + 1)
        .map(|w| (w[0].seq, w[1].seq))
        .collect()
}

/// A signalling client whose messages may be awaited in any order: what
/// arrives before it is asked for is kept.
pub struct Inbox {
    pub ws: Client,
    early: Vec<ServerMessage>,
}

impl Inbox {
    pub fn new(ws: Client) -> Self {
        Self {
            ws,
            early: Vec::new(),
        }
    }

    pub async fn expect(&mut self, pred: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        if let Some(i) = self.early.iter().position(&pred) {
            return self.early.remove(i);
        }
        loop {
            let msg = self.ws.recv().await;
            if pred(&msg) {
                return msg;
            }
            self.early.push(msg);
        }
    }
}

const AUDIO_EVERY: Duration = Duration::from_millis(20);
const VIDEO_EVERY: Duration = Duration::from_millis(33);

/// A running media client; its task stops when this is dropped.
#[derive(Debug)]
pub struct MediaClient {
    state: Arc<Mutex<Peer>>,
    socket: Option<UdpSocket>,
    pending: Option<SdpPendingOffer>,
    task: Option<JoinHandle<()>>,
}

impl Drop for MediaClient {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl MediaClient {
    /// Binds a socket on loopback and makes the offer: publishing audio
    /// and video, and `slots` receive slots of each kind.
    pub async fn offer(slots: usize) -> (Self, String) {
        Self::offer_from("127.0.0.1:0", slots).await
    }

    /// Like [`Self::offer`], from a socket bound to `bind`.
    pub async fn offer_from(bind: &str, slots: usize) -> (Self, String) {
        let socket = UdpSocket::bind(bind).await.expect("client socket");
        let addr = socket.local_addr().expect("client address");
        let (mut client, sdp, pending) = Peer::offer(Instant::now(), 0, addr, true, slots);
        client.audio_level = -30;
        let media = Self {
            state: Arc::new(Mutex::new(client)),
            socket: Some(socket),
            pending: Some(pending),
            task: None,
        };
        (media, sdp)
    }

    /// Applies the server's answer and starts driving the peer over the
    /// socket: ICE, DTLS, then audio and video.
    pub fn accept(&mut self, answer: &str) {
        let pending = self.pending.take().expect("an offer is pending");
        self.state().accept(pending, answer);
        let socket = self.socket.take().expect("not started yet");
        self.task = Some(tokio::spawn(drive(Arc::clone(&self.state), socket)));
    }

    pub fn state(&self) -> MutexGuard<'_, Peer> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What arrived in the slot `mid` so far.
    pub fn received(&self, mid: &str) -> Vec<Received> {
        self.state().received_in(mid).to_vec()
    }
}

async fn drive(state: Arc<Mutex<Peer>>, socket: UdpSocket) {
    let mut buf = vec![0u8; 2048];
    let mut next_audio = Instant::now();
    let mut next_video = Instant::now();
    let mut transmits = Vec::new();
    loop {
        let now = Instant::now();
        let timeout = {
            let mut c = state.lock().unwrap_or_else(|e| e.into_inner());
            if now >= next_audio {
                next_audio = now + AUDIO_EVERY;
                c.send_audio(now);
            }
            if now >= next_video {
                next_video = now + VIDEO_EVERY;
                c.send_video(now);
            }
            c.timeout = now;
            c.drain(now, |_, destination, bytes| {
                transmits.push((destination, bytes))
            })
            .expect("client output")
        };
        for (destination, bytes) in transmits.drain(..) {
            let _ = socket.send_to(&bytes, destination).await;
        }
        let wake = timeout.min(next_audio).min(next_video);
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((len, source)) = received else { continue };
                let mut c = state.lock().unwrap_or_else(|e| e.into_inner());
                c.handle_datagram(Instant::now(), source, &buf[..len])
                    .expect("client input");
            }
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}
