//! Cameras, microphones and speakers behind traits.
//!
//! - [`DeviceCatalog`] lists devices and opens them; `None` as an id means
//!   "the system default". [`SystemCatalog`] is the real one (cpal for audio,
//!   nokhwa for cameras); [`fake::FakeCatalog`] serves fakes whose devices a
//!   test can unplug.
//! - [`Camera`] and [`Microphone`] deliver [`VideoFrame`]s (I420) and
//!   [`AudioFrame`]s (48 kHz mono, 10 ms) through a bounded
//!   [`FrameReceiver`]: latest frame wins for video, oldest dropped for audio.
//!   When the device fails, the receiver ends with the error.
//! - [`Speaker`] takes 48 kHz mono frames and reports starvation.
//! - [`DeviceWatcher`] turns successive listings into [`DeviceEvent`]s (a
//!   device disappeared, a new default appeared) and [`Fallback`] words the
//!   switch to the default for the person, so audio and video never stop
//!   without the app saying so.

mod channel;
mod error;
mod watch;

pub mod convert;
pub mod cpal_audio;
pub mod fake;
pub mod nokhwa_camera;
mod resample;
pub mod source;
mod system;
mod thread;

use std::fmt;

pub use confab_media::frame::{AudioFrame, SAMPLE_RATE, SAMPLES_PER_10MS, VideoFrame};

pub use channel::{FrameReceiver, FrameSender, RecvError, frame_channel};
pub use error::DeviceError;
pub use resample::{StreamResampler, resample_to_48k};
pub use system::SystemCatalog;
pub use thread::DeviceThread;
pub use watch::{DeviceEvent, DeviceWatcher, Fallback};

/// Audio frames a capture queue holds before dropping the oldest: 200 ms.
pub const AUDIO_QUEUE_FRAMES: usize = 20;

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 3] = [Self::Camera, Self::Microphone, Self::Speaker];
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Camera => "camera",
            Self::Microphone => "microphone",
            Self::Speaker => "speaker",
        })
    }
}

/// A backend's stable name for a device, opaque to everyone else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub String);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One device as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: DeviceId,
    /// A name to show the person.
    pub name: String,
    pub kind: DeviceKind,
    /// Whether this is the system's default of its kind.
    pub is_default: bool,
}

/// The picture a camera is asked for; it delivers the closest it offers,
/// and [`Camera::format`] says what that was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraFormat {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl CameraFormat {
    /// The time between frames.
    pub fn frame_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1) / self.fps.max(1)
    }
}

impl Default for CameraFormat {
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// A camera. Frames arrive as I420 whatever the device sends.
pub trait Camera: Send + fmt::Debug {
    fn info(&self) -> &DeviceInfo;
    /// The format actually delivered.
    fn format(&self) -> CameraFormat;
    /// Starts capture; the receiver holds one frame (latest wins).
    fn start(&mut self) -> Result<FrameReceiver<VideoFrame>, DeviceError>;
    /// Stops capture; the receiver then ends with [`RecvError::Stopped`].
    fn stop(&mut self);
}

/// A microphone. Frames are 10 ms of 48 kHz mono, resampled and downmixed
/// from whatever the device offers.
pub trait Microphone: Send + fmt::Debug {
    fn info(&self) -> &DeviceInfo;
    /// Starts capture; the receiver holds [`AUDIO_QUEUE_FRAMES`] frames.
    fn start(&mut self) -> Result<FrameReceiver<AudioFrame>, DeviceError>;
    fn stop(&mut self);
}

/// Counters a speaker keeps so starvation is visible, not silent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlaybackStats {
    /// Samples (at 48 kHz) handed to the device.
    pub played: u64,
    /// Device callbacks that found less audio queued than they needed, after
    /// playback had begun; each one is an audible gap.
    pub underruns: u64,
    /// Samples thrown away because the queue was over its limit.
    pub overflowed: u64,
}

/// A speaker. It plays 48 kHz mono, upmixed and resampled to the device.
pub trait Speaker: Send + fmt::Debug {
    fn info(&self) -> &DeviceInfo;
    fn start(&mut self) -> Result<(), DeviceError>;
    /// Queues audio to play. Fails once the device has failed, e.g. when it
    /// was unplugged.
    fn play(&mut self, frame: &AudioFrame) -> Result<(), DeviceError>;
    fn stop(&mut self);
    fn stats(&self) -> PlaybackStats;
}

/// Lists and opens devices. An id of `None` opens the system default.
pub trait DeviceCatalog: Send + Sync + fmt::Debug {
    fn devices(&self, kind: DeviceKind) -> Result<Vec<DeviceInfo>, DeviceError>;
    fn open_camera(
        &self,
        id: Option<&DeviceId>,
        format: CameraFormat,
    ) -> Result<Box<dyn Camera>, DeviceError>;
    fn open_microphone(&self, id: Option<&DeviceId>) -> Result<Box<dyn Microphone>, DeviceError>;
    fn open_speaker(&self, id: Option<&DeviceId>) -> Result<Box<dyn Speaker>, DeviceError>;

    /// The system default of a kind, if there is any device of that kind.
    fn default_device(&self, kind: DeviceKind) -> Result<Option<DeviceInfo>, DeviceError> {
        let devices = self.devices(kind)?;
        let default = devices.iter().find(|d| d.is_default).cloned();
        Ok(default.or_else(|| devices.into_iter().next()))
    }
}
