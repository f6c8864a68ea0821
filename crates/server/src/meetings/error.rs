//! Why a meeting could not be created or changed. Each message is a sentence
//! the administrator can act on; the admin API sends it as `message`.

use crate::error::ServerError;

use super::schedule::MAX_DURATION_MINUTES;
use super::{MAX_PASSCODE, MAX_TITLE, MIN_PASSCODE};

#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    #[error("Give the meeting a title.")]
    EmptyTitle,
    #[error("The title has {len} characters; keep it to {MAX_TITLE} or fewer.")]
    TitleTooLong { len: usize },
    #[error("The title cannot contain line breaks or other control characters.")]
    TitleHasControlCharacters,
    #[error(
        "The passcode has {len} characters; it needs {MIN_PASSCODE} to {MAX_PASSCODE}. \
         Leave it out for a meeting without a passcode."
    )]
    PasscodeLength { len: usize },
    #[error("The passcode cannot contain control characters.")]
    PasscodeHasControlCharacters,
    #[error(
        "A meeting lasts 1 to {MAX_DURATION_MINUTES} minutes (one day); {minutes} is outside that."
    )]
    Duration { minutes: u32 },
    #[error(
        "{value:?} is not a time; give starts_at in RFC 3339 with an offset, \
         like 2026-12-01T09:00:00+01:00."
    )]
    StartsAt { value: String },
    #[error("{field} only applies to a scheduled meeting; give starts_at as well.")]
    ScheduleIncomplete { field: &'static str },
    #[error("There is no meeting with the code {code:?}.")]
    NotFound { code: String },
    #[error("no unused meeting code was found after {tries} tries")]
    NoFreeCode { tries: u32 },
    #[error(transparent)]
    Storage(#[from] ServerError),
}
