//! The meeting itself: joins through the meeting client (`confab-client`),
//! turns its events into [`MeetingUpdate`]s for the page, publishes every
//! participant's decoded video on the frame socket (one stream each, see
//! [`update::video_stream`]) and the local camera on "self", grades the
//! network, and carries out the screen's actions (mute, camera, device
//! changes, chat, hand, leave).
//!
//! One meeting at a time: [`MeetingSlot`] holds it. The event pump is a
//! task that ends when the meeting does; leaving stops it first, then gives
//! the seat back.

pub mod failure;
pub mod quality;
pub mod update;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use confab_client::{
    ClientError, Events, JoinOptions, LatestFrame, MediaOptions, Meeting, MeetingEvent, ServerUrl,
};
use confab_devices::{CameraFormat, DeviceCatalog, DeviceError, DeviceId, DeviceKind};
use confab_media::audio::processing::ProcessingConfig;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use ts_rs::TS;

use crate::frames::FrameHub;
use crate::pins::{PinCheck, PinStore};
use crate::preview::{SELF_STREAM, problem_sentence};
use failure::{JoinFailure, JoinFailureKind};
use quality::QualityWatch;
use update::{MeetingUpdate, video_stream};

/// How often the quality indicator is graded.
const QUALITY_EVERY: Duration = Duration::from_secs(2);
/// How long leaving waits for the event pump to stop.
const PUMP_STOP_WAIT: Duration = Duration::from_secs(2);

/// Where meeting updates go (the window, or a test's list).
pub trait MeetingSink: Send + Sync + 'static {
    fn update(&self, update: MeetingUpdate);
}

/// What the meeting screen asks for when it joins.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct JoinRequest {
    /// The host's base URL; `None` for a code typed alone, which goes to
    /// this computer's host mode.
    pub server: Option<String>,
    pub code: String,
    pub name: String,
    pub passcode: Option<String>,
    pub camera_on: bool,
    pub microphone_on: bool,
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// The answer to a join that the server accepted.
#[derive(Debug, Clone, Serialize, TS)]
pub struct JoinAnswer {
    /// False while waiting in the lobby; a `joined` update follows.
    pub admitted: bool,
    #[ts(type = "number | null")]
    pub me: Option<u64>,
    pub server: String,
    /// Devices that did not start, as sentences (the meeting runs without them).
    pub problems: Vec<String>,
}

/// Why an action in the meeting failed.
#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error("You are not in a meeting.")]
    NotInMeeting,
    #[error("{0}")]
    Device(String),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The devices and frame streams a meeting uses.
#[derive(Clone)]
pub struct MediaSources {
    pub catalog: Arc<dyn DeviceCatalog>,
    pub hub: Arc<FrameHub>,
}

impl std::fmt::Debug for MediaSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSources").finish_non_exhaustive()
    }
}

struct Active {
    meeting: Arc<Meeting>,
    stop_pump: Option<oneshot::Sender<()>>,
    pump: JoinHandle<()>,
    sources: MediaSources,
    audio_muted: bool,
    video_muted: bool,
    /// Whether a microphone is open (joining muted opens none until the
    /// first unmute).
    has_microphone: bool,
    microphone: Option<String>,
}

/// The meeting the app is in, if any.
#[derive(Default)]
pub struct MeetingSlot {
    active: Option<Active>,
}

impl std::fmt::Debug for MeetingSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetingSlot")
            .field("active", &self.active.is_some())
            .finish()
    }
}

/// Checks an `https://` host's certificate against its pin (pinning it on
/// first use) and returns the fingerprint to join with.
pub async fn pinned_fingerprint(
    server: &str,
    pins: &PinStore,
) -> Result<Option<String>, JoinFailure> {
    let url = ServerUrl::parse(server).map_err(|e| failure::from_client(server, &e))?;
    if !url.base().starts_with("https://") {
        return Ok(None);
    }
    let seen = url
        .fetch_fingerprint()
        .await
        .map_err(|e| failure::from_client(server, &e))?;
    match pins.check(url.base(), &seen) {
        Ok(PinCheck::FirstUse | PinCheck::Trusted) => Ok(Some(seen)),
        Ok(PinCheck::Changed { old, new }) => {
            Err(JoinFailure::certificate_changed(server, old, new))
        }
        Err(e) => Err(JoinFailure::new(JoinFailureKind::Other, e.to_string()).at(server)),
    }
}

fn device_id(id: &Option<String>) -> Option<DeviceId> {
    id.clone().map(DeviceId)
}

/// Opens the devices a join asks for; those that fail are left out and
/// described. Blocking (a device can take a while to open).
fn open_media(request: &JoinRequest, sources: &MediaSources) -> (MediaOptions, Vec<String>) {
    let catalog = &sources.catalog;
    let mut problems = Vec::new();
    let mut note = |kind, e: &DeviceError| problems.push(problem_sentence(kind, e));
    let mut media = MediaOptions::default();
    if request.camera_on {
        match catalog.open_camera(device_id(&request.camera).as_ref(), CameraFormat::default()) {
            Ok(camera) => media.camera = Some(camera),
            Err(e) => note(DeviceKind::Camera, &e),
        }
    }
    if request.microphone_on {
        match catalog.open_microphone(device_id(&request.microphone).as_ref()) {
            Ok(mic) => media.microphone = Some(mic),
            Err(e) => note(DeviceKind::Microphone, &e),
        }
    }
    match catalog.open_speaker(device_id(&request.speaker).as_ref()) {
        Ok(speaker) => media.speaker = Some(speaker),
        Err(e) => note(DeviceKind::Speaker, &e),
    }
    // A desk or boardroom PC usually plays the meeting through speakers its
    // microphone hears: without echo cancellation the others hear themselves
    // back. All three stages on (docs/decisions.md, "Echo cancellation in the
    // app"); a headset user loses nothing but a little CPU.
    media.processing = Some(ProcessingConfig::default());
    let hub = Arc::clone(&sources.hub);
    media.on_local_video = Some(Arc::new(move |frame| hub.publish(SELF_STREAM, frame)));
    (media, problems)
}

impl MeetingSlot {
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Joins `server` with `request`'s devices; updates go to `sink`.
    pub async fn join(
        &mut self,
        server: &str,
        request: JoinRequest,
        tls_fingerprint: Option<String>,
        host_key: Option<String>,
        sources: MediaSources,
        sink: Arc<dyn MeetingSink>,
    ) -> Result<JoinAnswer, JoinFailure> {
        if self.active.is_some() {
            return Err(JoinFailure::new(
                JoinFailureKind::AlreadyInMeeting,
                "You are already in a meeting; leave it first.",
            ));
        }
        let (request, opened) = {
            let sources = sources.clone();
            tokio::task::spawn_blocking(move || {
                let opened = open_media(&request, &sources);
                (request, opened)
            })
            .await
            .map_err(|e| JoinFailure::new(JoinFailureKind::Other, e.to_string()))?
        };
        let (media, problems) = opened;
        let has_microphone = media.microphone.is_some();
        let mut options = JoinOptions::new(server, &request.code, &request.name);
        options.passcode = request.passcode.clone().filter(|p| !p.is_empty());
        options.tls_fingerprint = tls_fingerprint;
        options.host_key = host_key;
        let (meeting, events) = Meeting::join(options, media)
            .await
            .map_err(|e| failure::from_client(server, &e))?;
        let (audio_muted, video_muted) = (!request.microphone_on, !request.camera_on);
        // Others learn at once that this person comes in muted.
        if audio_muted || video_muted {
            let _ = meeting.set_muted(audio_muted, video_muted);
        }
        let me = meeting.id();
        let meeting = Arc::new(meeting);
        let (stop_tx, stop_rx) = oneshot::channel();
        let pump = tokio::spawn(pump(
            Arc::clone(&meeting),
            events,
            Arc::clone(&sources.hub),
            sink,
            stop_rx,
        ));
        self.active = Some(Active {
            meeting,
            stop_pump: Some(stop_tx),
            pump,
            sources,
            audio_muted,
            video_muted,
            has_microphone,
            microphone: request.microphone,
        });
        Ok(JoinAnswer {
            admitted: me.is_some(),
            me,
            server: server.to_owned(),
            problems,
        })
    }

    fn active(&mut self) -> Result<&mut Active, MeetingError> {
        self.active.as_mut().ok_or(MeetingError::NotInMeeting)
    }

    pub fn chat(&mut self, text: &str) -> Result<(), MeetingError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        Ok(self.active()?.meeting.chat(text)?)
    }

    pub fn raise_hand(&mut self, raised: bool) -> Result<(), MeetingError> {
        Ok(self.active()?.meeting.raise_hand(raised)?)
    }

    pub fn set_view(
        &mut self,
        participant: u64,
        width: u32,
        height: u32,
    ) -> Result<(), MeetingError> {
        Ok(self
            .active()?
            .meeting
            .set_view(participant, width, height)?)
    }

    /// Host: let someone in from the lobby, or refuse them.
    pub fn admit(&mut self, participant: u64, admit: bool) -> Result<(), MeetingError> {
        let meeting = &self.active()?.meeting;
        if admit {
            meeting.admit(participant)?;
        } else {
            meeting.deny(participant)?;
        }
        Ok(())
    }

    /// Mutes or unmutes the microphone; the first unmute after joining
    /// muted opens it.
    pub async fn set_audio_muted(&mut self, muted: bool) -> Result<(), MeetingError> {
        let active = self.active()?;
        if !muted && !active.has_microphone {
            let id = device_id(&active.microphone);
            let mic = open_blocking(DeviceKind::Microphone, &active.sources, move |c| {
                c.open_microphone(id.as_ref())
            })
            .await?;
            active.meeting.set_microphone(Some(mic)).await?;
            active.has_microphone = true;
        }
        active.audio_muted = muted;
        Ok(active.meeting.set_muted(muted, active.video_muted)?)
    }

    /// Turns the camera on (`device`, or the default) or off; off releases it.
    pub async fn set_camera(
        &mut self,
        on: bool,
        device: Option<String>,
    ) -> Result<(), MeetingError> {
        let active = self.active()?;
        if on {
            let id = device.map(DeviceId);
            let camera = open_blocking(DeviceKind::Camera, &active.sources, move |c| {
                c.open_camera(id.as_ref(), CameraFormat::default())
            })
            .await?;
            active.meeting.set_camera(Some(camera)).await?;
        } else {
            active.meeting.set_muted(active.audio_muted, true)?;
            active.meeting.set_camera(None).await?;
            active.sources.hub.clear(SELF_STREAM);
        }
        active.video_muted = !on;
        Ok(active.meeting.set_muted(active.audio_muted, !on)?)
    }

    /// Switches to another microphone mid-call.
    pub async fn set_microphone(&mut self, device: Option<String>) -> Result<(), MeetingError> {
        let active = self.active()?;
        active.microphone = device.clone();
        if !active.has_microphone {
            return Ok(()); // opened on the next unmute
        }
        let id = device.map(DeviceId);
        let mic = open_blocking(DeviceKind::Microphone, &active.sources, move |c| {
            c.open_microphone(id.as_ref())
        })
        .await?;
        Ok(active.meeting.set_microphone(Some(mic)).await?)
    }

    /// Switches to another speaker mid-call.
    pub async fn set_speaker(&mut self, device: Option<String>) -> Result<(), MeetingError> {
        let active = self.active()?;
        let id = device.map(DeviceId);
        let speaker = open_blocking(DeviceKind::Speaker, &active.sources, move |c| {
            c.open_speaker(id.as_ref())
        })
        .await?;
        Ok(active.meeting.set_speaker(Some(speaker)).await?)
    }

    /// Leaves: stops the pump (it clears the video streams) and gives the
    /// seat back. Nothing to do when not in a meeting.
    pub async fn leave(&mut self) {
        let Some(mut active) = self.active.take() else {
            return;
        };
        if let Some(stop) = active.stop_pump.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(PUMP_STOP_WAIT, &mut active.pump)
            .await
            .is_err()
        {
            active.pump.abort();
        }
        active.sources.hub.clear(SELF_STREAM);
        match Arc::try_unwrap(active.meeting) {
            Ok(meeting) => {
                if let Err(e) = meeting.leave().await {
                    tracing::debug!("leaving: {e}");
                }
            }
            // Only the pump holds another handle, and it has stopped.
            Err(_) => tracing::warn!("the meeting was still in use when leaving"),
        }
    }
}

/// Opens a device off the async workers; a failure is the sentence the
/// preview would show.
async fn open_blocking<T: Send + 'static>(
    kind: DeviceKind,
    sources: &MediaSources,
    open: impl FnOnce(&dyn DeviceCatalog) -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, MeetingError> {
    let catalog = Arc::clone(&sources.catalog);
    match tokio::task::spawn_blocking(move || open(catalog.as_ref())).await {
        Ok(Ok(device)) => Ok(device),
        Ok(Err(e)) => Err(MeetingError::Device(problem_sentence(kind, &e))),
        Err(e) => Err(MeetingError::Device(format!(
            "The {kind} could not be opened: {e}."
        ))),
    }
}

/// Moves the client's events to the page and each participant's video to
/// the frame socket, and grades the network every [`QUALITY_EVERY`].
async fn pump(
    meeting: Arc<Meeting>,
    mut events: Events,
    hub: Arc<FrameHub>,
    sink: Arc<dyn MeetingSink>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut forwarders: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut watch = QualityWatch::default();
    let mut tick = tokio::time::interval(QUALITY_EVERY);
    loop {
        let event = tokio::select! {
            _ = &mut stop => break,
            event = events.recv() => match event {
                Some(event) => event,
                None => break,
            },
            _ = tick.tick() => {
                let reconnecting = meeting.connection() == confab_client::ConnectionState::Reconnecting;
                let (overall, links) = watch.grade(&meeting.stats(), reconnecting);
                sink.update(MeetingUpdate::Quality { overall, links });
                continue;
            }
        };
        match &event {
            MeetingEvent::VideoAvailable { participant, .. } => {
                let p = *participant;
                forwarders.entry(p).or_insert_with(|| {
                    tokio::spawn(forward(meeting.video(p), Arc::clone(&hub), video_stream(p)))
                });
            }
            MeetingEvent::MediaEnded { participant }
            | MeetingEvent::ParticipantLeft { participant, .. } => {
                if let Some(task) = forwarders.remove(participant) {
                    task.abort();
                }
                hub.clear(&video_stream(*participant));
            }
            _ => {}
        }
        watch.observe(&event);
        sink.update(event.into());
    }
    for (p, task) in forwarders {
        task.abort();
        hub.clear(&video_stream(p));
    }
}

/// Publishes a participant's newest decoded picture on their stream; the
/// frame socket scales it to each tile.
async fn forward(mut frames: LatestFrame, hub: Arc<FrameHub>, stream: String) {
    while frames.changed().await.is_ok() {
        let frame = frames.borrow_and_update().clone();
        if let Some(frame) = frame {
            hub.publish(&stream, frame);
        }
    }
}

#[cfg(test)]
mod tests;
