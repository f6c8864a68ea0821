//! A speaker that keeps what it is given.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::Plug;
use crate::{AudioFrame, DeviceError, DeviceInfo, PlaybackStats, Speaker};

/// Everything a [`FakeSpeaker`] has played, readable while it plays: the
/// far-end reference for echo-cancellation tests and the thing assertions
/// look at.
#[derive(Debug, Clone, Default)]
pub struct Recording(Arc<Mutex<Vec<f32>>>);

impl Recording {
    fn lock(&self) -> MutexGuard<'_, Vec<f32>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the samples so far (48 kHz mono).
    pub fn samples(&self) -> Vec<f32> {
        self.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the samples so far, leaving the recording empty.
    pub fn take(&self) -> Vec<f32> {
        std::mem::take(&mut *self.lock())
    }
}

/// A speaker that records instead of playing. It never starves, so its
/// underrun count stays at zero; it fails like a real one when unplugged.
#[derive(Debug)]
pub struct FakeSpeaker {
    info: DeviceInfo,
    plug: Plug,
    recording: Recording,
    started: bool,
    stats: PlaybackStats,
}

impl FakeSpeaker {
    pub fn new(info: DeviceInfo, plug: Plug, recording: Recording) -> Self {
        Self {
            info,
            plug,
            recording,
            started: false,
            stats: PlaybackStats::default(),
        }
    }

    /// The handle to what this speaker has played.
    pub fn recording(&self) -> Recording {
        self.recording.clone()
    }

    fn disappeared(&self) -> DeviceError {
        DeviceError::Disappeared {
            kind: self.info.kind,
            name: self.info.name.clone(),
        }
    }
}

impl Speaker for FakeSpeaker {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        if !self.plug.is_present() {
            return Err(self.disappeared());
        }
        self.started = true;
        Ok(())
    }

    /// Records `frame` while started; audio given to a stopped speaker is
    /// dropped, as a real one would not play it either.
    fn play(&mut self, frame: &AudioFrame) -> Result<(), DeviceError> {
        if !self.plug.is_present() {
            self.started = false;
            return Err(self.disappeared());
        }
        if self.started {
            self.recording.lock().extend_from_slice(&frame.samples);
            self.stats.played += frame.samples.len() as u64;
        }
        Ok(())
    }

    fn stop(&mut self) {
        self.started = false;
    }

    fn stats(&self) -> PlaybackStats {
        self.stats
    }
}
