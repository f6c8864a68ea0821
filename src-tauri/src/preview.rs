//! The pre-join preview: the chosen camera on the frame socket's "self"
//! stream and the chosen microphone's level, with device failures worded
//! for the person.
//!
//! Devices come from a [`DeviceCatalog`]: the computer's own, or fakes when
//! `CONFAB_FAKE_DEVICES` is set (see [`FakeDevices`]), which is how the
//! window test gets a camera on a machine without one.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use confab_devices::fake::FakeCatalog;
use confab_devices::{
    CameraFormat, DeviceCatalog, DeviceError, DeviceId, DeviceKind, DeviceThread, RecvError,
    SystemCatalog,
};
use confab_media::synth::audio::Babble;
use confab_media::synth::video::TestPattern;
use serde::Serialize;
use ts_rs::TS;

use crate::frames::FrameHub;

/// The stream the camera preview is published on.
pub const SELF_STREAM: &str = "self";

/// The variable that swaps the computer's devices for fakes.
pub const FAKE_DEVICES_VAR: &str = "CONFAB_FAKE_DEVICES";

/// Which fakes `CONFAB_FAKE_DEVICES` asks for: `1` gives a test-pattern
/// camera, a babbling microphone and a speaker; a comma-separated list of
/// `no-camera`, `no-microphone`, `microphone-busy` takes some away, to show
/// the screens a person sees then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeDevices {
    pub camera: bool,
    pub microphone: bool,
    pub microphone_busy: bool,
}

/// `CONFAB_FAKE_DEVICES` held something other than the options above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{FAKE_DEVICES_VAR}: unknown option {0:?}; use 1, or a comma-separated list of \
     no-camera, no-microphone, microphone-busy"
)]
pub struct FakeDevicesError(String);

impl FakeDevices {
    /// `None` when the variable is unset or empty: use the real devices.
    pub fn parse(value: Option<&str>) -> Result<Option<Self>, FakeDevicesError> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty() && *v != "0") else {
            return Ok(None);
        };
        let mut fakes = Self {
            camera: true,
            microphone: true,
            microphone_busy: false,
        };
        for option in value.split(',').map(str::trim) {
            match option {
                "1" | "" => {}
                "no-camera" => fakes.camera = false,
                "no-microphone" => fakes.microphone = false,
                "microphone-busy" => fakes.microphone_busy = true,
                other => return Err(FakeDevicesError(other.to_owned())),
            }
        }
        Ok(Some(fakes))
    }

    pub fn catalog(self) -> FakeCatalog {
        let catalog = FakeCatalog::new();
        if self.camera {
            catalog.add_camera("Test pattern camera", |f: CameraFormat| {
                Box::new(
                    TestPattern::new(f.width, f.height, f.fps)
                        .expect("camera formats have even sizes"),
                )
            });
        }
        if self.microphone {
            let id =
                catalog.add_microphone("Babbling microphone", || Box::new(Babble::new(0.3, 7)));
            catalog.set_held(&id, self.microphone_busy);
        }
        catalog.add_speaker("Recording speaker");
        catalog
    }
}

/// The devices to use: fakes when the environment asks, else the system's.
pub fn catalog_from_env() -> Result<(Arc<dyn DeviceCatalog>, bool), FakeDevicesError> {
    let value = std::env::var(FAKE_DEVICES_VAR).ok();
    Ok(match FakeDevices::parse(value.as_deref())? {
        Some(fakes) => (Arc::new(fakes.catalog()), true),
        None => (Arc::new(SystemCatalog::new()), false),
    })
}

/// A device failure as one sentence with the way forward in it.
pub fn problem_sentence(kind: DeviceKind, error: &DeviceError) -> String {
    let other = format!("pick another {kind}");
    match error {
        DeviceError::NoneFound(DeviceKind::Camera) => {
            "No camera found — you can join without video.".into()
        }
        DeviceError::NoneFound(DeviceKind::Microphone) => {
            "No microphone found — you can join muted and still hear everyone.".into()
        }
        DeviceError::NoneFound(DeviceKind::Speaker) => {
            "No speaker found — plug in headphones or speakers to hear the meeting.".into()
        }
        DeviceError::Busy { name, .. } => format!(
            "The {kind} “{name}” is in use by another program — close that program, or {other}."
        ),
        DeviceError::Disappeared { name, .. } => {
            format!("The {kind} “{name}” was unplugged — plug it back in, or {other}.")
        }
        DeviceError::PermissionDenied { name, .. } => format!(
            "Confab may not use the {kind} “{name}” — allow it in the system's privacy settings."
        ),
        DeviceError::Unsupported { name, .. } => {
            format!("The {kind} “{name}” offers nothing Confab can use — {other}.")
        }
        other_error => format!("The {kind} could not be started ({other_error}) — {other}."),
    }
}

/// What a preview device is doing, for the page.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DeviceState {
    /// `on`, `off`, or `failed` (then `problem` says why and what to do).
    pub status: DeviceStatus,
    /// The device's name while it is on.
    pub device: Option<String>,
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    On,
    Off,
    Failed,
}

impl DeviceState {
    pub fn off() -> Self {
        Self {
            status: DeviceStatus::Off,
            device: None,
            problem: None,
        }
    }

    fn on(name: &str) -> Self {
        Self {
            status: DeviceStatus::On,
            device: Some(name.to_owned()),
            problem: None,
        }
    }

    pub fn failed(kind: DeviceKind, error: &DeviceError) -> Self {
        Self {
            status: DeviceStatus::Failed,
            device: None,
            problem: Some(problem_sentence(kind, error)),
        }
    }
}

/// What the preview reports while it runs.
pub trait PreviewEvents: Send + Sync + 'static {
    /// The microphone's level, 0 (silence, −60 dBFS or less) to 1 (full scale).
    fn level(&self, level: f32);
    /// A running device failed; the state says why.
    fn device_changed(&self, kind: DeviceKind, state: DeviceState);
}

/// The running preview devices.
pub struct Preview {
    catalog: Arc<dyn DeviceCatalog>,
    hub: Arc<FrameHub>,
    events: Arc<dyn PreviewEvents>,
    camera: Option<DeviceThread>,
    microphone: Option<DeviceThread>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview")
            .field("camera", &self.camera.is_some())
            .field("microphone", &self.microphone.is_some())
            .finish()
    }
}

const POLL: Duration = Duration::from_millis(100);

impl Preview {
    pub fn new(
        catalog: Arc<dyn DeviceCatalog>,
        hub: Arc<FrameHub>,
        events: Arc<dyn PreviewEvents>,
    ) -> Self {
        Self {
            catalog,
            hub,
            events,
            camera: None,
            microphone: None,
        }
    }

    pub fn catalog(&self) -> &Arc<dyn DeviceCatalog> {
        &self.catalog
    }

    /// Shows `id` (or the default camera) on the "self" stream.
    pub fn start_camera(&mut self, id: Option<DeviceId>) -> DeviceState {
        self.stop_camera();
        let kind = DeviceKind::Camera;
        let opened = self
            .catalog
            .open_camera(id.as_ref(), CameraFormat::default())
            .and_then(|mut camera| Ok((camera.start()?, camera)));
        let (frames, camera) = match opened {
            Ok(running) => running,
            Err(e) => return DeviceState::failed(kind, &e),
        };
        let name = camera.info().name.clone();
        let (hub, events) = (Arc::clone(&self.hub), Arc::clone(&self.events));
        let thread = DeviceThread::spawn("confab preview camera", move |flag| {
            let _camera = camera;
            while !flag.load(Ordering::SeqCst) {
                match frames.recv_timeout(POLL) {
                    Ok(frame) => hub.publish(SELF_STREAM, Arc::new(frame)),
                    Err(RecvError::Timeout) => {}
                    Err(RecvError::Stopped) => break,
                    Err(RecvError::Failed(e)) => {
                        events.device_changed(kind, DeviceState::failed(kind, &e));
                        break;
                    }
                }
            }
            hub.clear(SELF_STREAM);
        });
        match thread {
            Ok(thread) => self.camera = Some(thread),
            Err(e) => return DeviceState::failed(kind, &DeviceError::Thread(e.to_string())),
        }
        DeviceState::on(&name)
    }

    pub fn stop_camera(&mut self) {
        if let Some(worker) = self.camera.take() {
            worker.stop();
        }
        self.hub.clear(SELF_STREAM);
    }

    /// Listens to `id` (or the default microphone) and reports its level.
    pub fn start_microphone(&mut self, id: Option<DeviceId>) -> DeviceState {
        self.stop_microphone();
        let kind = DeviceKind::Microphone;
        let opened = self
            .catalog
            .open_microphone(id.as_ref())
            .and_then(|mut mic| Ok((mic.start()?, mic)));
        let (frames, mic) = match opened {
            Ok(running) => running,
            Err(e) => return DeviceState::failed(kind, &e),
        };
        let name = mic.info().name.clone();
        let events = Arc::clone(&self.events);
        let thread = DeviceThread::spawn("confab preview microphone", move |flag| {
            let _mic = mic;
            let mut meter = LevelMeter::default();
            while !flag.load(Ordering::SeqCst) {
                match frames.recv_timeout(POLL) {
                    Ok(frame) => {
                        if let Some(level) = meter.push(&frame.samples) {
                            events.level(level);
                        }
                    }
                    Err(RecvError::Timeout) => {}
                    Err(RecvError::Stopped) => break,
                    Err(RecvError::Failed(e)) => {
                        events.device_changed(kind, DeviceState::failed(kind, &e));
                        break;
                    }
                }
            }
            events.level(0.0);
        });
        match thread {
            Ok(thread) => self.microphone = Some(thread),
            Err(e) => return DeviceState::failed(kind, &DeviceError::Thread(e.to_string())),
        }
        DeviceState::on(&name)
    }

    pub fn stop_microphone(&mut self) {
        if let Some(worker) = self.microphone.take() {
            worker.stop();
        }
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        self.stop_camera();
        self.stop_microphone();
    }
}

/// Turns 48 kHz samples into a meter reading every 50 ms: the peak of the
/// window on a −60..0 dBFS scale, which is how people judge "am I loud
/// enough" (an RMS meter looks sluggish on speech).
#[derive(Debug, Default)]
pub struct LevelMeter {
    peak: f32,
    counted: usize,
}

impl LevelMeter {
    /// Samples in one reading: 50 ms, twenty readings a second.
    pub const WINDOW: usize = 2400;

    pub fn push(&mut self, samples: &[f32]) -> Option<f32> {
        for &s in samples {
            self.peak = self.peak.max(s.abs());
        }
        self.counted += samples.len();
        if self.counted < Self::WINDOW {
            return None;
        }
        let db = 20.0 * self.peak.max(1e-6).log10();
        self.peak = 0.0;
        self.counted = 0;
        Some(((db + 60.0) / 60.0).clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests;
