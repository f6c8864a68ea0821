//! One error type for the crate, split by audience.

use std::path::PathBuf;

use crate::DeviceKind;

/// Why a device could not be listed, opened or kept running.
///
/// The first group is for the person at the computer: each variant reads as a
/// sentence they can act on (plug a camera in, close the other program). The
/// rest are internal failures that go to logs and bug reports;
/// [`DeviceError::is_user_facing`] tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// There is no device of this kind at all.
    #[error("no {0} found")]
    NoneFound(DeviceKind),
    /// A device that was asked for by id is not (or no longer) there.
    #[error("the {kind} \"{name}\" disappeared")]
    Disappeared { kind: DeviceKind, name: String },
    /// The device exists but another program holds it.
    #[error("the {kind} \"{name}\" is used by another program")]
    Busy { kind: DeviceKind, name: String },
    /// The operating system refused access.
    #[error(
        "Confab is not allowed to use the {kind} \"{name}\"; check the system's privacy settings"
    )]
    PermissionDenied { kind: DeviceKind, name: String },
    /// The device offers nothing Confab can use.
    #[error("the {kind} \"{name}\" does not support {wanted}")]
    Unsupported {
        kind: DeviceKind,
        name: String,
        wanted: String,
    },
    /// A media file given as a fake device's source is unreadable or in a
    /// format we do not take.
    #[error("cannot use {path}: {reason}")]
    File { path: PathBuf, reason: String },

    /// The audio backend (cpal) failed in a way the user cannot fix.
    #[error("audio backend error: {0}")]
    AudioBackend(String),
    /// The camera backend (nokhwa) failed in a way the user cannot fix.
    #[error("camera backend error: {0}")]
    CameraBackend(String),
    /// A captured picture could not be converted to I420.
    #[error("cannot convert a {format} picture: {reason}")]
    Conversion { format: String, reason: String },
    /// A capture thread could not be started.
    #[error("cannot start a capture thread: {0}")]
    Thread(String),
    /// The resampler refused its configuration or data.
    #[error("resampler error: {0}")]
    Resampler(String),
}

impl DeviceError {
    /// True for errors worth showing to the person as they are.
    pub fn is_user_facing(&self) -> bool {
        matches!(
            self,
            Self::NoneFound(_)
                | Self::Disappeared { .. }
                | Self::Busy { .. }
                | Self::PermissionDenied { .. }
                | Self::Unsupported { .. }
                | Self::File { .. }
        )
    }
}

impl From<rubato::ResamplerConstructionError> for DeviceError {
    fn from(e: rubato::ResamplerConstructionError) -> Self {
        Self::Resampler(e.to_string())
    }
}

impl From<rubato::ResampleError> for DeviceError {
    fn from(e: rubato::ResampleError) -> Self {
        Self::Resampler(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_facing_errors_read_as_sentences() {
        assert_eq!(
            DeviceError::NoneFound(DeviceKind::Camera).to_string(),
            "no camera found"
        );
        let busy = DeviceError::Busy {
            kind: DeviceKind::Microphone,
            name: "USB Mic".into(),
        };
        assert_eq!(
            busy.to_string(),
            "the microphone \"USB Mic\" is used by another program"
        );
        assert!(busy.is_user_facing());
        assert!(!DeviceError::AudioBackend("snd_pcm_open: -5".into()).is_user_facing());
    }
}
