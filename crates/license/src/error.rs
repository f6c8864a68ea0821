//! The crate's errors, one enum per audience: the administrator who installs
//! a licence ([`LicenceError`]), the vendor who issues one ([`IssueError`]),
//! and the person asking for a line in a meeting ([`SeatError`]). Each message
//! is a sentence its reader can act on.

use std::time::Duration;

use jiff::Timestamp;

use crate::keys::DEV_KEY_ID;

/// Why a licence file is not accepted. The server then runs the free tier and
/// shows this message on the admin pages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceError {
    /// The bytes are not a licence file this crate can read (not JSON, a
    /// missing field, bad base64, a payload that does not parse).
    #[error(
        "the licence file is damaged or is not a Confab licence ({0}); \
         install the file exactly as the vendor sent it"
    )]
    Malformed(String),
    /// The file declares a `format` this version does not know.
    #[error(
        "the licence file has format {0}, which this version of Confab cannot read; \
         update Confab or ask the vendor for a format 1 file"
    )]
    UnsupportedFormat(u64),
    /// The file names a signing key that this build does not trust.
    #[error("{}", unknown_key_message(.0))]
    UnknownKey(String),
    /// The signature does not match the payload bytes.
    #[error(
        "the licence file was changed after it was signed; \
         install the original file from the vendor"
    )]
    BadSignature,
    /// The licence starts later (`not_before` is after now).
    #[error(
        "the licence only starts on {}; until then the free tier applies",
        human_time(*.not_before)
    )]
    NotYetValid { not_before: Timestamp },
    /// The licence ended (`expires_at` is now or earlier).
    #[error(
        "the licence expired on {}; install a renewed licence from the vendor",
        human_time(*.expires_at)
    )]
    Expired { expires_at: Timestamp },
    /// A correctly signed licence that grants no lines: a mistake at issue.
    #[error("the licence grants no lines (seats = 0); ask the vendor for a corrected licence")]
    ZeroSeats,
}

fn unknown_key_message(key_id: &str) -> String {
    if key_id == DEV_KEY_ID {
        format!(
            "the licence is signed with the development key {key_id:?}, which only \
             development builds (built with the `dev-key` feature) trust; \
             install a licence from the vendor"
        )
    } else {
        format!(
            "the licence is signed by key {key_id:?}, which this build of Confab does not \
             trust; update Confab or ask the vendor for a licence signed with a current key \
             (development licences only work in development builds)"
        )
    }
}

/// Formats a timestamp for an administrator: minutes are enough, and the
/// zone is spelled out because the server's local zone may differ.
pub(crate) fn human_time(at: Timestamp) -> impl std::fmt::Display {
    at.strftime("%Y-%m-%d %H:%M UTC")
}

/// Why the vendor tool cannot issue a licence or read a secret key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The secret key file does not hold exactly one 64-digit hex key.
    #[error("the secret key file is not usable: {0}")]
    BadKeyFile(String),
    /// Key ids travel in files and messages, so they are kept plain.
    #[error("key id {0:?} is not usable: use 1 to 64 characters from a-z, 0-9 and '-'")]
    BadKeyId(String),
    /// A licence must grant at least one line.
    #[error("a licence needs at least one seat")]
    ZeroSeats,
    /// `expires_at` is not after `not_before` (or `issued_at`), so the
    /// licence would never be valid.
    #[error("the licence would expire ({}) before it starts ({})", human_time(*.expires_at), human_time(*.starts_at))]
    EndsBeforeStart {
        starts_at: Timestamp,
        expires_at: Timestamp,
    },
}

/// Why a connection did not get (or get back) a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatError {
    /// Every line of the licence is taken. Shown to the person joining.
    #[error("{}", full_message(*.limit))]
    Full { limit: u32 },
    /// The connection already holds a line; a second one is never taken.
    #[error("this connection already holds a line")]
    AlreadySeated,
    /// The resume token matches no held line (wrong, forged, or already freed).
    #[error("this session cannot be resumed; join the meeting again")]
    UnknownSession,
    /// The token was right but the connection came back too late.
    #[error(
        "the connection was away for more than {} seconds, so its line was given back; \
         join the meeting again",
        .window.as_secs()
    )]
    ResumeWindowPassed { window: Duration },
}

fn full_message(limit: u32) -> String {
    match limit {
        0 => "No lines are available on this server. Ask the administrator to install a licence."
            .to_owned(),
        1 => "The only line is in use. Try again when someone leaves.".to_owned(),
        n => format!("All {n} lines are in use. Try again when someone leaves."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_message_names_the_number_of_lines() {
        assert_eq!(
            SeatError::Full { limit: 10 }.to_string(),
            "All 10 lines are in use. Try again when someone leaves."
        );
        assert_eq!(
            SeatError::Full { limit: 1 }.to_string(),
            "The only line is in use. Try again when someone leaves."
        );
        assert!(
            SeatError::Full { limit: 0 }
                .to_string()
                .contains("No lines")
        );
    }

    #[test]
    fn unknown_dev_key_message_says_a_development_build_is_needed() {
        let dev = LicenceError::UnknownKey(DEV_KEY_ID.into()).to_string();
        assert!(dev.contains("development builds"), "{dev}");
        let other = LicenceError::UnknownKey("acme-2031".into()).to_string();
        assert!(other.contains("\"acme-2031\""), "{other}");
        assert!(other.contains("does not trust"), "{other}");
    }

    #[test]
    fn times_are_shown_to_the_minute_in_utc() {
        let at: Timestamp = "2027-03-01T09:30:15Z".parse().unwrap();
        let text = LicenceError::Expired { expires_at: at }.to_string();
        assert!(text.contains("expired on 2027-03-01 09:30 UTC"), "{text}");
    }
}
