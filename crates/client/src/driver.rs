//! The driver task: owns the WebSocket, the media UDP socket and the
//! str0m peer, feeds the sans-IO [`Session`] and [`Peer`], and moves media
//! between them and the pipeline threads (capture.rs, playback.rs).

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_devices::{Camera, Microphone, Speaker};
use confab_proto::signal::{ClientMessage, ErrorCode, ParticipantId, ServerMessage};
use str0m::change::SdpPendingOffer;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::capture::{self, Capture, CaptureSetup, Outgoing, SendStats};
use crate::error::ClientError;
use crate::events::{ConnectionState, MeetingEvent};
use crate::meeting::{MediaOptions, Shared};
use crate::peer::{Peer, PeerEvent};
use crate::playback::{
    AudioIn, AudioPlayout, AudioSinks, Counters, FAR_QUEUE, FrameBus, VideoPacket, VideoReceiver,
    VideoSinks,
};
use crate::session::{Output, Phase, Session, SlotKind};
use crate::signalling::{self, ServerUrl, Ws};

/// Encoded packets waiting for the driver; beyond this they are dropped.
const MEDIA_QUEUE: usize = 256;
const RECV_BUFFER: usize = 2048;
/// Pause between attempts to reach the server again.
const RETRY_GAP: Duration = Duration::from_millis(250);
/// How long `leave` waits for the server's `left`.
const LEAVE_WAIT: Duration = Duration::from_secs(2);

/// What the [`crate::Meeting`] handle asks of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    Send(ClientMessage),
    View {
        participant: ParticipantId,
        width: u32,
        height: u32,
    },
    Mute {
        audio: bool,
        video: bool,
    },
    /// Replaces the device (`None`: none); answers once the new one runs.
    Camera(
        Option<Box<dyn Camera>>,
        oneshot::Sender<Result<(), ClientError>>,
    ),
    Microphone(
        Option<Box<dyn Microphone>>,
        oneshot::Sender<Result<(), ClientError>>,
    ),
    Speaker(
        Option<Box<dyn Speaker>>,
        oneshot::Sender<Result<(), ClientError>>,
    ),
    RestartMedia,
    DropSignalling,
    Leave(oneshot::Sender<()>),
    /// The handle was dropped: stop without a word.
    Abandon,
}

/// The media connection of the current offer.
struct MediaLink {
    peer: Peer,
    socket: UdpSocket,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    wake: Instant,
}

pub(crate) struct Driver {
    url: ServerUrl,
    slots: usize,
    ws: Option<Ws>,
    session: Session,
    events: mpsc::UnboundedSender<MeetingEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    shared: Shared,
    counters: Counters,
    media_rx: mpsc::Receiver<Outgoing>,
    keyframes_rx: mpsc::UnboundedReceiver<ParticipantId>,
    capture: Option<Capture>,
    playout: Option<AudioPlayout>,
    sinks: VideoSinks,
    decoders: HashMap<ParticipantId, VideoReceiver>,
    link: Option<MediaLink>,
    leaving: Option<oneshot::Sender<()>>,
    started: Instant,
}

impl Driver {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        url: ServerUrl,
        slots: usize,
        ws: Ws,
        media: MediaOptions,
        events: mpsc::UnboundedSender<MeetingEvent>,
        commands: mpsc::UnboundedReceiver<Command>,
        shared: Shared,
        bus: FrameBus,
        counters: Counters,
        send_stats: Arc<Mutex<SendStats>>,
    ) -> Result<Self, ClientError> {
        let (media_tx, media_rx) = mpsc::channel(MEDIA_QUEUE);
        let (keyframes_tx, keyframes_rx) = mpsc::unbounded_channel();
        let (far_tx, far_rx) = std::sync::mpsc::sync_channel(FAR_QUEUE);
        let processing = media.processing;
        let capture = capture::start(
            CaptureSetup {
                microphone: media.microphone,
                processing,
                far: far_rx,
                camera: media.camera,
                on_local: media.on_local_video,
            },
            media_tx,
            send_stats,
        )?;
        let playout = AudioPlayout::start(AudioSinks {
            speaker: media.speaker,
            callback: media.on_audio,
            far: processing.is_some().then_some(far_tx),
            counters: counters.clone(),
            events: events.clone(),
        })?;
        let sinks = VideoSinks {
            bus,
            counters: counters.clone(),
            callback: media.on_video,
            events: events.clone(),
            keyframes: keyframes_tx,
        };
        Ok(Self {
            url,
            slots,
            ws: Some(ws),
            session: Session::new(),
            events,
            commands,
            shared,
            counters,
            media_rx,
            keyframes_rx,
            capture: Some(capture),
            playout: Some(playout),
            sinks,
            decoders: HashMap::new(),
            link: None,
            leaving: None,
            started: Instant::now(),
        })
    }

    fn emit(&self, event: MeetingEvent) {
        if let MeetingEvent::Connection(state) = &event {
            self.shared.lock().connection = state.clone();
        }
        let _ = self.events.send(event);
    }

    /// Runs until the meeting is over for this client. `first` are the
    /// messages the handshake already read (welcome, joined or lobby).
    pub(crate) async fn run(mut self, first: Vec<ServerMessage>) {
        self.emit(MeetingEvent::Connection(ConnectionState::Connected));
        for msg in first {
            self.on_server(msg).await;
        }
        let mut buf = vec![0u8; RECV_BUFFER];
        while self.session.phase() != Phase::Over {
            let wake = self.next_wake();
            tokio::select! {
                msg = next_message(self.ws.as_mut()) => match msg {
                    Some(msg) => self.on_server(msg).await,
                    None => {
                        if !self.reconnect().await {
                            break;
                        }
                    }
                },
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => {
                        if !self.on_command(cmd).await {
                            break;
                        }
                    }
                    None => break,
                },
                Some(out) = self.media_rx.recv() => self.on_outgoing(out),
                Some(p) = self.keyframes_rx.recv() => self.request_keyframe(p),
                received = recv_udp(self.link.as_ref(), &mut buf) => {
                    if let (Ok((len, source)), Some(link)) = (received, self.link.as_mut()) {
                        link.peer.receive(Instant::now(), source, link.local, &buf[..len]);
                        while let Ok((len, source)) = link.socket.try_recv_from(&mut buf) {
                            link.peer.receive(Instant::now(), source, link.local, &buf[..len]);
                        }
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => self.on_timeout().await,
            }
            self.drive_peer().await;
        }
        self.shut_down().await;
    }

    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(1);
        let beat = self.session.next_timeout().unwrap_or(far);
        let peer = self.link.as_ref().map_or(far, |l| l.wake);
        beat.min(peer).min(far)
    }

    async fn on_timeout(&mut self) {
        let now = Instant::now();
        if let Some(msg) = self.session.poll(now) {
            self.send(&msg).await;
        }
        if let Some(link) = &mut self.link {
            link.peer.timeout(now);
        }
    }

    async fn send(&mut self, msg: &ClientMessage) {
        if let Some(ws) = &mut self.ws
            && signalling::send(ws, msg).await.is_err()
        {
            // The read side notices the drop and reconnects.
            tracing::debug!("signalling send failed");
        }
    }

    async fn on_server(&mut self, msg: ServerMessage) {
        let (mut out, mut send) = (Vec::new(), Vec::new());
        self.session
            .handle(msg, Instant::now(), &mut out, &mut send);
        for o in out {
            match o {
                Output::Event(e) => self.emit(e),
                Output::Answer(sdp) => self.accept_answer(&sdp),
                Output::Layers(wanted) => {
                    if let Some(c) = &self.capture {
                        c.video.lock().unwrap_or_else(|e| e.into_inner()).wanted = wanted;
                    }
                }
                Output::SlotsFreed(p) => {
                    self.decoders.remove(&p);
                    if let Some(playout) = &self.playout {
                        let _ = playout.tx.send(AudioIn::Remove(p));
                    }
                }
                Output::Offer => {
                    if let Err(e) = self.offer().await {
                        self.emit(MeetingEvent::MediaError(e.to_string()));
                    }
                }
            }
        }
        for msg in send {
            self.send(&msg).await;
        }
        if self.session.phase() == Phase::Joined {
            let mut snapshot = self.shared.lock();
            snapshot.me = self.session.me();
            snapshot.participants = self.session.participants().values().cloned().collect();
        }
    }

    /// Starts a new media connection in place of the old one.
    async fn offer(&mut self) -> Result<(), ClientError> {
        if let Some(mut old) = self.link.take() {
            old.peer.close();
        }
        self.decoders.clear();
        let server = self.url.resolve()?;
        let local_ip = local_ip_towards(server)?;
        let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await?;
        let local = socket.local_addr()?;
        let (peer, pending, sdp) = Peer::offer(local, self.slots, Instant::now())?;
        self.link = Some(MediaLink {
            peer,
            socket,
            local,
            pending: Some(pending),
            wake: Instant::now(),
        });
        self.send(&ClientMessage::Offer { sdp }).await;
        Ok(())
    }

    fn accept_answer(&mut self, sdp: &str) {
        let Some(link) = &mut self.link else { return };
        let Some(pending) = link.pending.take() else {
            return;
        };
        if let Err(e) = link.peer.accept(pending, sdp) {
            self.emit(MeetingEvent::MediaError(e.to_string()));
        }
    }

    async fn drive_peer(&mut self) {
        let Some(link) = &mut self.link else { return };
        let (mut transmits, mut events) = (Vec::new(), Vec::new());
        link.wake = link.peer.poll(Instant::now(), &mut transmits, &mut events);
        for (destination, bytes) in transmits {
            if let Err(e) = link.socket.send_to(&bytes, destination).await {
                tracing::debug!(%destination, error = %e, "media send failed");
            }
        }
        for event in events {
            self.on_peer_event(event).await;
        }
    }

    async fn on_peer_event(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::Connected => self.emit(MeetingEvent::MediaConnected),
            // The media path alone broke: a fresh offer replaces it.
            PeerEvent::Disconnected => self.restart_media().await,
            PeerEvent::KeyframeRequest(layer) => {
                if let Some(c) = &self.capture {
                    c.video.lock().unwrap_or_else(|e| e.into_inner()).keyframes[layer as usize] =
                        true;
                }
            }
            PeerEvent::KeyframeAsked { mid } => {
                if let Some((p, _)) = self.session.slot(&mid) {
                    self.counters.update(p, |s| s.keyframe_requests += 1);
                }
            }
            PeerEvent::Loss { mid, fraction } => {
                if let Some((p, _)) = self.session.slot(&mid) {
                    self.counters.update(p, |s| s.loss = Some(fraction));
                }
            }
            PeerEvent::Media {
                mid,
                data,
                seq,
                rtp_time,
                contiguous,
                arrival,
                ..
            } => match self.session.slot(&mid) {
                Some((participant, SlotKind::Audio)) => {
                    if let Some(playout) = &self.playout {
                        let _ = playout.tx.send(AudioIn::Packet {
                            participant,
                            seq,
                            rtp_time,
                            payload: data,
                            arrival,
                        });
                    }
                }
                Some((participant, SlotKind::Video)) => {
                    if !self.decoders.contains_key(&participant) {
                        match VideoReceiver::start(participant, self.sinks.clone()) {
                            Ok(r) => {
                                self.decoders.insert(participant, r);
                            }
                            Err(e) => self.emit(MeetingEvent::MediaError(e.to_string())),
                        }
                    }
                    if let Some(r) = self.decoders.get(&participant) {
                        r.push(VideoPacket {
                            data,
                            contiguous,
                            rtp_time,
                        });
                    }
                }
                // Media before its media_slots message: nobody to give it to.
                None => {}
            },
        }
    }

    /// Replaces the media connection with a fresh offer; signalling and
    /// the seat stay. The SFU frees and re-sends everyone's slots.
    async fn restart_media(&mut self) {
        if self.session.phase() != Phase::Joined {
            return;
        }
        self.emit(MeetingEvent::Connection(ConnectionState::Reconnecting));
        self.session.new_media();
        if let Err(e) = self.offer().await {
            self.emit(MeetingEvent::MediaError(e.to_string()));
        }
        self.emit(MeetingEvent::Connection(ConnectionState::Connected));
    }

    fn on_outgoing(&mut self, out: Outgoing) {
        let Some(link) = &mut self.link else { return };
        let now = Instant::now();
        match out {
            Outgoing::Audio {
                samples,
                payload,
                level,
            } => link.peer.write_audio(now, samples, &payload, level),
            Outgoing::Video {
                layer,
                capture,
                data,
            } => link.peer.write_video(now, layer, capture, &data),
            Outgoing::Failed(reason) => self.emit(MeetingEvent::MediaError(reason)),
        }
    }

    fn request_keyframe(&mut self, participant: ParticipantId) {
        let Some(link) = &mut self.link else { return };
        if let Some(mid) = self.session.mid_of(participant, SlotKind::Video) {
            link.peer.request_keyframe(&mid);
        }
    }

    /// Returns false when the driver should stop.
    async fn on_command(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Send(msg) => self.send(&msg).await,
            Command::View {
                participant,
                width,
                height,
            } => {
                if let Some(msg) = self.session.set_view(participant, width, height) {
                    self.send(&msg).await;
                }
            }
            Command::Mute { audio, video } => {
                if let Some(c) = &self.capture {
                    use std::sync::atomic::Ordering;
                    c.audio_muted.store(audio, Ordering::Relaxed);
                    c.video_muted.store(video, Ordering::Relaxed);
                }
                self.send(&ClientMessage::MediaState {
                    audio_muted: audio,
                    video_muted: video,
                })
                .await;
            }
            Command::Camera(camera, done) => {
                let result = self.swap_devices(move |c| c.set_camera(camera)).await;
                let _ = done.send(result);
            }
            Command::Microphone(microphone, done) => {
                let result = self
                    .swap_devices(move |c| c.set_microphone(microphone))
                    .await;
                let _ = done.send(result);
            }
            Command::Speaker(speaker, done) => match &self.playout {
                // The audio thread swaps it between two 20 ms ticks and answers.
                Some(playout) => {
                    if let Err(std::sync::mpsc::SendError(AudioIn::Speaker(_, done))) =
                        playout.tx.send(AudioIn::Speaker(speaker, done))
                    {
                        let _ = done.send(Err(ClientError::Stopped));
                    }
                }
                None => {
                    let _ = done.send(Err(ClientError::Stopped));
                }
            },
            Command::RestartMedia => self.restart_media().await,
            Command::DropSignalling => {
                self.ws = None;
                return self.reconnect().await;
            }
            Command::Leave(done) => {
                self.leaving = Some(done);
                self.leave().await;
                return false;
            }
            Command::Abandon => return false,
        }
        true
    }

    /// Changes a capture device off the async workers: stopping the old
    /// one waits for its thread, and opening the new one can take a while.
    async fn swap_devices(
        &mut self,
        change: impl FnOnce(&mut Capture) -> Result<(), ClientError> + Send + 'static,
    ) -> Result<(), ClientError> {
        let Some(mut capture) = self.capture.take() else {
            return Err(ClientError::Stopped);
        };
        let task = tokio::task::spawn_blocking(move || {
            let result = change(&mut capture);
            (capture, result)
        });
        match task.await {
            Ok((capture, result)) => {
                self.capture = Some(capture);
                result
            }
            // The capture threads went with the panicked task.
            Err(e) => Err(ClientError::Media(format!("changing a device failed: {e}"))),
        }
    }

    async fn leave(&mut self) {
        self.send(&ClientMessage::Leave).await;
        let Some(ws) = self.ws.as_mut() else { return };
        let deadline = tokio::time::Instant::now() + LEAVE_WAIT;
        while let Ok(Ok(Some(msg))) = tokio::time::timeout_at(deadline, signalling::next(ws)).await
        {
            if matches!(msg, ServerMessage::Left) {
                self.emit(MeetingEvent::Left);
                break;
            }
        }
    }

    /// Resumes the seat on a new connection within the heartbeat timeout
    /// (three heartbeat intervals). Returns false when that failed.
    async fn reconnect(&mut self) -> bool {
        self.ws = None;
        if self.session.phase() == Phase::Over {
            return false;
        }
        let Some(token) = self.session.resume_token().map(str::to_owned) else {
            self.emit(MeetingEvent::Connection(ConnectionState::Failed(
                "the connection dropped before the meeting admitted you".into(),
            )));
            return false;
        };
        self.emit(MeetingEvent::Connection(ConnectionState::Reconnecting));
        if let Some(mut old) = self.link.take() {
            old.peer.close();
        }
        self.session.reconnecting();
        let deadline = Instant::now() + self.session.heartbeat_interval() * 3;
        let mut last_error = String::from("no attempt was made");
        while Instant::now() < deadline {
            match self.resume(&token).await {
                Ok(()) => {
                    self.emit(MeetingEvent::Connection(ConnectionState::Connected));
                    return true;
                }
                Err(ClientError::Server {
                    code: ErrorCode::ResumeFailed,
                    message,
                }) => {
                    last_error = message;
                    break;
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(RETRY_GAP).await;
        }
        self.emit(MeetingEvent::Connection(ConnectionState::Failed(
            last_error,
        )));
        false
    }

    async fn resume(&mut self, token: &str) -> Result<(), ClientError> {
        let (mut ws, welcome) = signalling::greet(&self.url).await?;
        signalling::send(
            &mut ws,
            &ClientMessage::Resume {
                token: token.into(),
            },
        )
        .await?;
        let joined = signalling::answer(&mut ws).await?;
        if !matches!(joined, ServerMessage::Joined { .. }) {
            return Err(ClientError::Protocol(format!(
                "expected joined, got {joined:?}"
            )));
        }
        self.ws = Some(ws);
        self.on_server(welcome).await;
        self.on_server(joined).await;
        Ok(())
    }

    async fn shut_down(mut self) {
        if let Some(mut link) = self.link.take() {
            link.peer.close();
        }
        self.decoders.clear();
        // Joining the capture and playout threads blocks briefly.
        let (capture, playout) = (self.capture.take(), self.playout.take());
        let _ = tokio::task::spawn_blocking(move || drop((capture, playout))).await;
        if let Some(done) = self.leaving.take() {
            let _ = done.send(());
        }
        tracing::debug!(ran = ?self.started.elapsed(), "meeting driver stopped");
    }
}

async fn next_message(ws: Option<&mut Ws>) -> Option<ServerMessage> {
    match ws {
        Some(ws) => match signalling::next(ws).await {
            Ok(msg) => msg,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable server message");
                // Keep reading: one bad message is not a dropped connection.
                Some(ServerMessage::HeartbeatAck)
            }
        },
        None => std::future::pending().await,
    }
}

async fn recv_udp(
    link: Option<&MediaLink>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match link {
        Some(link) => link.socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// The local address the system routes towards `server` from (found by
/// connecting a UDP socket, which sends nothing).
fn local_ip_towards(server: SocketAddr) -> Result<std::net::IpAddr, ClientError> {
    let any: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = StdUdpSocket::bind(any)?;
    probe.connect(server)?;
    Ok(probe.local_addr()?.ip())
}
