//! The public face: [`Meeting::join`] and the handle that controls a
//! running meeting. The work happens in the driver task (driver.rs).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use confab_devices::{Camera, Microphone, Speaker};
use confab_media::audio::processing::ProcessingConfig;
use confab_proto::signal::{ClientKind, ClientMessage, Participant, ParticipantId, ServerMessage};
use tokio::sync::{mpsc, oneshot};

use crate::capture::{LocalVideoCallback, SendStats};
use crate::driver::{Command, Driver};
use crate::error::ClientError;
use crate::events::{ConnectionState, MeetingEvent};
use crate::playback::{
    AudioCallback, Counters, FrameBus, FrameCallback, LatestFrame, ReceiveStats,
};
use crate::signalling::{self, ServerUrl};

/// Receive slots offered by default: meetings of up to nine.
pub const DEFAULT_RECEIVE_SLOTS: usize = 8;

/// Who joins where.
#[derive(Debug, Clone)]
pub struct JoinOptions {
    /// The host's base URL, like `http://office-pc:8443`.
    pub server: String,
    /// The meeting code, like `kqz-rmtp-wfa`.
    pub meeting: String,
    pub name: String,
    pub kind: ClientKind,
    pub passcode: Option<String>,
    pub host_key: Option<String>,
    /// How many others can be received at once (recvonly slots per kind).
    pub receive_slots: usize,
    /// For an `https://` server: the SHA-256 fingerprint (`AB:CD:…`) of
    /// the certificate to trust, as the server prints it.
    pub tls_fingerprint: Option<String>,
}

impl JoinOptions {
    pub fn new(
        server: impl Into<String>,
        meeting: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            server: server.into(),
            meeting: meeting.into(),
            name: name.into(),
            kind: ClientKind::App,
            passcode: None,
            host_key: None,
            receive_slots: DEFAULT_RECEIVE_SLOTS,
            tls_fingerprint: None,
        }
    }
}

/// The devices and sinks a meeting uses; all optional.
#[derive(Default)]
pub struct MediaOptions {
    pub microphone: Option<Box<dyn Microphone>>,
    /// Echo cancellation, noise suppression and gain control on the
    /// microphone; `None` sends it as captured.
    pub processing: Option<ProcessingConfig>,
    pub camera: Option<Box<dyn Camera>>,
    /// Plays the mix of everyone's audio.
    pub speaker: Option<Box<dyn Speaker>>,
    /// Every picture the camera delivers, on the capture thread (keep it
    /// quick): the self view.
    pub on_local_video: Option<LocalVideoCallback>,
    /// Every decoded picture, on the decoder's thread (keep it quick).
    pub on_video: Option<FrameCallback>,
    /// Every 20 ms each participant played, on the audio thread.
    pub on_audio: Option<AudioCallback>,
}

impl std::fmt::Debug for MediaOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaOptions")
            .field("microphone", &self.microphone)
            .field("processing", &self.processing)
            .field("camera", &self.camera)
            .field("speaker", &self.speaker)
            .finish_non_exhaustive()
    }
}

/// What the handle can read without asking the driver.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) me: Option<ParticipantId>,
    pub(crate) participants: Vec<Participant>,
    pub(crate) connection: ConnectionState,
}

#[derive(Debug, Clone)]
pub(crate) struct Shared(Arc<Mutex<Snapshot>>);

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Snapshot> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A joined (or waiting) meeting. Dropping it leaves without a word; call
/// [`Meeting::leave`] to give the seat back at once.
#[derive(Debug)]
pub struct Meeting {
    commands: mpsc::UnboundedSender<Command>,
    shared: Shared,
    bus: FrameBus,
    counters: Counters,
    send_stats: Arc<Mutex<SendStats>>,
    task: tokio::task::JoinHandle<()>,
}

/// The stream of [`MeetingEvent`]s of one meeting.
pub type Events = mpsc::UnboundedReceiver<MeetingEvent>;

impl Meeting {
    /// Connects, says hello and asks to join. Returns once the server
    /// admitted the person (a `Joined` event is the first one) or put them
    /// in the lobby (`InLobby`); a refusal is [`ClientError::Server`] with
    /// the server's sentence.
    pub async fn join(
        options: JoinOptions,
        media: MediaOptions,
    ) -> Result<(Self, Events), ClientError> {
        let url = ServerUrl::parse(&options.server)?.pinned(options.tls_fingerprint.clone());
        let (mut ws, welcome) = signalling::greet(&url).await?;
        signalling::send(
            &mut ws,
            &ClientMessage::Join {
                meeting: options.meeting.clone(),
                name: options.name.clone(),
                kind: options.kind,
                passcode: options.passcode.clone(),
                host_key: options.host_key.clone(),
            },
        )
        .await?;
        let first = signalling::answer(&mut ws).await?;
        if !matches!(
            first,
            ServerMessage::Joined { .. } | ServerMessage::Lobby { .. }
        ) {
            return Err(ClientError::Protocol(format!(
                "expected joined or lobby, got {first:?}"
            )));
        }
        let (events_tx, events) = mpsc::unbounded_channel();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        // Readable at once, before the driver has run.
        let (me, participants) = match &first {
            ServerMessage::Joined {
                you, participants, ..
            } => (Some(you.id), participants.clone()),
            _ => (None, Vec::new()),
        };
        let shared = Shared(Arc::new(Mutex::new(Snapshot {
            me,
            participants,
            connection: ConnectionState::Connected,
        })));
        let bus = FrameBus::default();
        let counters = Counters::default();
        let send_stats = Arc::new(Mutex::new(SendStats::default()));
        let driver = Driver::new(
            url,
            options.receive_slots,
            ws,
            media,
            events_tx,
            commands_rx,
            shared.clone(),
            bus.clone(),
            counters.clone(),
            Arc::clone(&send_stats),
        )?;
        let task = tokio::spawn(driver.run(vec![welcome, first]));
        Ok((
            Self {
                commands,
                shared,
                bus,
                counters,
                send_stats,
                task,
            },
            events,
        ))
    }

    fn command(&self, c: Command) -> Result<(), ClientError> {
        self.commands.send(c).map_err(|_| ClientError::Stopped)
    }

    fn send(&self, msg: ClientMessage) -> Result<(), ClientError> {
        self.command(Command::Send(msg))
    }

    /// This participant's id, once admitted.
    pub fn id(&self) -> Option<ParticipantId> {
        self.shared.lock().me
    }

    /// Everyone in the meeting, this participant included.
    pub fn participants(&self) -> Vec<Participant> {
        self.shared.lock().participants.clone()
    }

    pub fn connection(&self) -> ConnectionState {
        self.shared.lock().connection.clone()
    }

    /// Whether the driver still runs (false after leaving, an end, removal
    /// or a failed reconnect).
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    pub fn chat(&self, text: impl Into<String>) -> Result<(), ClientError> {
        self.send(ClientMessage::Chat { text: text.into() })
    }

    pub fn raise_hand(&self, raised: bool) -> Result<(), ClientError> {
        self.send(ClientMessage::RaiseHand { raised })
    }

    /// Mutes or unmutes the microphone and camera: stops sending them and
    /// tells the others.
    pub fn set_muted(&self, audio: bool, video: bool) -> Result<(), ClientError> {
        self.command(Command::Mute { audio, video })
    }

    /// The tile size `participant` is shown at (0×0: not shown); the SFU
    /// picks the simulcast layer from it.
    pub fn set_view(
        &self,
        participant: ParticipantId,
        width: u32,
        height: u32,
    ) -> Result<(), ClientError> {
        self.command(Command::View {
            participant,
            width,
            height,
        })
    }

    /// Host: let someone in from the lobby.
    pub fn admit(&self, participant: ParticipantId) -> Result<(), ClientError> {
        self.send(ClientMessage::Admit { participant })
    }

    /// Host: refuse someone waiting in the lobby.
    pub fn deny(&self, participant: ParticipantId) -> Result<(), ClientError> {
        self.send(ClientMessage::Deny { participant })
    }

    /// Host: remove someone from the meeting.
    pub fn remove(&self, participant: ParticipantId) -> Result<(), ClientError> {
        self.send(ClientMessage::Remove { participant })
    }

    /// Host: ask someone to mute.
    pub fn ask_mute(&self, participant: ParticipantId) -> Result<(), ClientError> {
        self.send(ClientMessage::AskMute { participant })
    }

    /// Host: lock or unlock the meeting.
    pub fn set_locked(&self, locked: bool) -> Result<(), ClientError> {
        self.send(ClientMessage::SetLocked { locked })
    }

    /// Host: end the meeting for everyone.
    pub fn end_meeting(&self) -> Result<(), ClientError> {
        self.send(ClientMessage::EndMeeting)
    }

    /// The latest decoded picture of `participant` (latest wins).
    pub fn video(&self, participant: ParticipantId) -> LatestFrame {
        self.bus.subscribe(participant)
    }

    /// What has been received from each participant so far.
    pub fn stats(&self) -> HashMap<ParticipantId, ReceiveStats> {
        self.counters.lock().clone()
    }

    /// What this client's own pipelines sent so far.
    pub fn send_stats(&self) -> SendStats {
        *self
            .send_stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the camera mid-call (`None` turns video capture off and
    /// releases the device). Returns once the new camera runs; its failure
    /// to start is the error, and the meeting then sends no video.
    pub async fn set_camera(&self, camera: Option<Box<dyn Camera>>) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Camera(camera, tx))?;
        rx.await.map_err(|_| ClientError::Stopped)?
    }

    /// Replaces the microphone mid-call (`None` releases it); like
    /// [`Meeting::set_camera`].
    pub async fn set_microphone(
        &self,
        microphone: Option<Box<dyn Microphone>>,
    ) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Microphone(microphone, tx))?;
        rx.await.map_err(|_| ClientError::Stopped)?
    }

    /// Plays the meeting on another speaker from now on (`None`: on none).
    /// Returns once the new one started; its failure is the error, and the
    /// meeting then plays on no speaker.
    pub async fn set_speaker(&self, speaker: Option<Box<dyn Speaker>>) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Speaker(speaker, tx))?;
        rx.await.map_err(|_| ClientError::Stopped)?
    }

    /// Replaces the media connection with a fresh offer, keeping the seat
    /// and signalling (after a network change, say). The client does the
    /// same by itself when the media path fails.
    pub fn restart_media(&self) -> Result<(), ClientError> {
        self.command(Command::RestartMedia)
    }

    /// Drops the signalling connection without leaving, as a network
    /// failure would; the client then resumes its seat. For tests and
    /// diagnostics.
    pub fn simulate_network_drop(&self) -> Result<(), ClientError> {
        self.command(Command::DropSignalling)
    }

    /// Leaves the meeting: the seat is given back at once. Waits (bounded)
    /// for the server's answer and the driver to stop.
    pub async fn leave(self) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.command(Command::Leave(tx))?;
        // The driver answers once it has stopped and released the devices.
        let _ = tokio::time::timeout(signalling::ANSWER_WAIT, rx).await;
        Ok(())
    }
}

impl Drop for Meeting {
    fn drop(&mut self) {
        // Without a leave the server holds the seat until the heartbeat
        // timeout, as for a network failure.
        if !self.task.is_finished() {
            let _ = self.commands.send(Command::Abandon);
        }
    }
}
