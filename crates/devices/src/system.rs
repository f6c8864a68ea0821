//! The real devices: cpal for audio, nokhwa for cameras.

use crate::cpal_audio::CpalAudio;
use crate::nokhwa_camera::{NokhwaCamera, list_cameras};
use crate::{
    Camera, CameraFormat, DeviceCatalog, DeviceError, DeviceId, DeviceInfo, DeviceKind, Microphone,
    Speaker,
};

/// The computer's own cameras, microphones and speakers.
#[derive(Debug, Default)]
pub struct SystemCatalog {
    audio: CpalAudio,
}

impl SystemCatalog {
    pub fn new() -> Self {
        Self::default()
    }
}

impl DeviceCatalog for SystemCatalog {
    fn devices(&self, kind: DeviceKind) -> Result<Vec<DeviceInfo>, DeviceError> {
        match kind {
            DeviceKind::Camera => list_cameras(),
            _ => self.audio.devices(kind),
        }
    }

    fn open_camera(
        &self,
        id: Option<&DeviceId>,
        format: CameraFormat,
    ) -> Result<Box<dyn Camera>, DeviceError> {
        Ok(Box::new(NokhwaCamera::open(id, format)?))
    }

    fn open_microphone(&self, id: Option<&DeviceId>) -> Result<Box<dyn Microphone>, DeviceError> {
        Ok(Box::new(self.audio.open_microphone(id)?))
    }

    fn open_speaker(&self, id: Option<&DeviceId>) -> Result<Box<dyn Speaker>, DeviceError> {
        Ok(Box::new(self.audio.open_speaker(id)?))
    }
}
