//! The client's one error type.

use std::time::Duration;

use confab_proto::signal::ErrorCode;

/// Why a meeting operation failed.
///
/// [`ClientError::Server`] carries the server's own sentence for the person
/// (wrong passcode, all lines in use, ...); the others are this client's
/// own failures.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused: `message` is its sentence for the person.
    #[error("{message}")]
    Server { code: ErrorCode, message: String },
    #[error("\"{url}\" is not a server address: {reason}")]
    BadUrl { url: String, reason: &'static str },
    #[error("could not reach the server at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("the connection to the server was lost")]
    ConnectionLost,
    /// The secure connection failed or the certificate is not the pinned one.
    #[error("the secure connection to the server failed: {0}")]
    Tls(String),
    #[error("the server sent something this client does not understand: {0}")]
    Protocol(String),
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    /// A host let this person wait in the lobby and they were refused.
    #[error("the meeting is over or you were removed: {0}")]
    Ended(String),
    #[error("the media connection failed: {0}")]
    Media(String),
    #[error(transparent)]
    Device(#[from] confab_devices::DeviceError),
    #[error(transparent)]
    Video(#[from] confab_media::video::VideoError),
    #[error(transparent)]
    Opus(#[from] confab_media::audio::opus::OpusError),
    #[error(transparent)]
    Processing(#[from] confab_media::audio::processing::ProcessingError),
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    /// The meeting's driver has stopped (after leaving, an end or a failure).
    #[error("the meeting client has stopped")]
    Stopped,
}

impl ClientError {
    /// The server's error code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Server { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<str0m::RtcError> for ClientError {
    fn from(e: str0m::RtcError) -> Self {
        Self::Media(e.to_string())
    }
}
