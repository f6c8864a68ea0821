//! Why joining failed, as a kind the page turns into a way forward (ask for
//! the passcode again, try again, trust a new certificate, ...) and a
//! sentence the person can act on.

use confab_client::{ClientError, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JoinFailureKind {
    /// The passcode was missing or wrong: ask for it.
    WrongPasscode,
    /// A host locked the meeting.
    Locked,
    /// Every licensed line is in use.
    Full,
    /// No answer from that address.
    Unreachable,
    /// No such meeting, or it is not open yet.
    NotFound,
    /// The address is not one the app can use.
    BadAddress,
    /// A code alone, with no host to send it to.
    NoHost,
    /// The host's certificate is not the one pinned for it.
    CertificateChanged,
    /// The app is already in a meeting.
    AlreadyInMeeting,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct JoinFailure {
    pub kind: JoinFailureKind,
    /// The sentence for the person (the server's own when it refused).
    pub message: String,
    /// The host that was asked.
    pub server: Option<String>,
    /// For a changed certificate: the one trusted before and the one now.
    pub old_fingerprint: Option<String>,
    pub new_fingerprint: Option<String>,
}

impl JoinFailure {
    pub fn new(kind: JoinFailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            server: None,
            old_fingerprint: None,
            new_fingerprint: None,
        }
    }

    pub fn at(mut self, server: &str) -> Self {
        self.server = Some(server.to_owned());
        self
    }

    pub fn no_host() -> Self {
        Self::new(
            JoinFailureKind::NoHost,
            "A meeting code alone works for meetings on this computer's host mode, which is \
             not running. Paste the whole join link your host sent (it starts with http:// or \
             https://).",
        )
    }

    pub fn certificate_changed(server: &str, old: String, new: String) -> Self {
        Self {
            old_fingerprint: Some(old),
            new_fingerprint: Some(new),
            ..Self::new(
                JoinFailureKind::CertificateChanged,
                "This host's certificate changed since you last joined. That happens when the \
                 host was reinstalled or its certificate renewed — or when someone is between \
                 you and the host. Ask the host which fingerprint it shows before trusting it.",
            )
            .at(server)
        }
    }
}

/// The failure a person sees for a client error while joining `server`.
pub fn from_client(server: &str, error: &ClientError) -> JoinFailure {
    use JoinFailureKind as K;
    let failure = match error {
        ClientError::Server { code, message } => {
            let kind = match code {
                ErrorCode::WrongPasscode => K::WrongPasscode,
                ErrorCode::MeetingLocked => K::Locked,
                ErrorCode::ServerFull => K::Full,
                ErrorCode::MeetingNotFound | ErrorCode::MeetingNotOpen => K::NotFound,
                _ => K::Other,
            };
            JoinFailure::new(kind, message.clone())
        }
        ClientError::Connect { .. } | ClientError::Timeout(_) | ClientError::ConnectionLost => {
            JoinFailure::new(
                K::Unreachable,
                format!(
                    "No answer from {server}. Check the address, and that host mode is running \
                     on that computer (its Host mode panel shows the address to use)."
                ),
            )
        }
        ClientError::BadUrl { .. } => JoinFailure::new(
            K::BadAddress,
            format!("{error}. Paste the whole join link your host sent."),
        ),
        other => JoinFailure::new(K::Other, format!("Could not join: {other}.")),
    };
    failure.at(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_refusals_keep_the_servers_sentence_and_get_a_kind() {
        let full = ClientError::Server {
            code: ErrorCode::ServerFull,
            message: "All 5 lines are in use. Try again when someone leaves.".into(),
        };
        let f = from_client("http://h:1", &full);
        assert_eq!(f.kind, JoinFailureKind::Full);
        assert_eq!(
            f.message,
            "All 5 lines are in use. Try again when someone leaves."
        );
        assert_eq!(f.server.as_deref(), Some("http://h:1"));
        let cases = [
            (ErrorCode::WrongPasscode, JoinFailureKind::WrongPasscode),
            (ErrorCode::MeetingLocked, JoinFailureKind::Locked),
            (ErrorCode::MeetingNotFound, JoinFailureKind::NotFound),
            (ErrorCode::RateLimited, JoinFailureKind::Other),
        ];
        for (code, kind) in cases {
            let e = ClientError::Server {
                code,
                message: "m".into(),
            };
            assert_eq!(from_client("http://h:1", &e).kind, kind, "{code:?}");
        }
    }

    #[test]
    fn an_unreachable_host_says_what_to_check() {
        let e = ClientError::Connect {
            url: "http://10.0.0.9:8443".into(),
            detail: "connection refused".into(),
        };
        let f = from_client("http://10.0.0.9:8443", &e);
        assert_eq!(f.kind, JoinFailureKind::Unreachable);
        assert!(
            f.message
                .starts_with("No answer from http://10.0.0.9:8443."),
            "{}",
            f.message
        );
        assert!(f.message.contains("host mode is running"), "{}", f.message);
    }
}
