//! The admin API under `/api/admin/` (documented in `docs/admin-api.md`).
//!
//! Times are RFC 3339 strings on the wire (`"2026-12-01T09:00:00Z"`): a
//! person reading a script's output or a log can check them at a glance, and
//! JavaScript's `Date` parses them. The server answers in UTC and accepts
//! any offset.

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// Machine-readable reason in every admin API error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AdminErrorCode {
    /// The body is not JSON of the expected shape (400).
    InvalidRequest,
    /// Empty, too long, or has control characters (400).
    InvalidTitle,
    /// Too short, too long, or has control characters (400).
    InvalidPasscode,
    /// `duration_minutes` outside 1..=1440 (400).
    InvalidDuration,
    /// `starts_at` is not an RFC 3339 time (400).
    InvalidStartsAt,
    /// `duration_minutes` or `weekly` without `starts_at` (400).
    ScheduleIncomplete,
    /// A new admin password shorter than 10 characters (400).
    PasswordTooShort,
    /// No session, an unknown token, or an expired session (401).
    Unauthenticated,
    /// The password is not the admin password (401).
    WrongPassword,
    /// A cookie session sent a change without a matching `X-CSRF-Token` (403).
    CsrfFailed,
    /// The setup token is wrong or was already used (403).
    InvalidSetupToken,
    /// No admin password is set yet, so nobody can log in (409).
    SetupRequired,
    /// The admin password is already set; setup works only once (409).
    AlreadySetUp,
    /// Too many failed attempts from this address; see `Retry-After` (429).
    TooManyAttempts,
    /// No meeting has that code (404).
    MeetingNotFound,
    /// The meeting has no start time, so it has no calendar invitation (404).
    NotScheduled,
    /// No admin API endpoint at that path (404).
    NotFound,
    /// An uploaded licence file was refused; the message says why.
    LicenceRefused,
    /// The connection or meeting to act on is not live (any more).
    NotLive,
    /// Something failed inside the server; its log has the details (500).
    Internal,
}

/// Body of every error answer from the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AdminError {
    pub code: AdminErrorCode,
    /// A sentence for the person reading it, saying what to do.
    pub message: String,
}

/// `POST /api/admin/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LoginRequest {
    pub password: String,
}

/// Answer of a successful login or setup.
///
/// `token` is a bearer token for scripts (`Authorization: Bearer <token>`).
/// The same answer sets an HttpOnly session cookie for browsers, whose
/// changing requests must send `csrf` in the `X-CSRF-Token` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LoginResponse {
    pub token: String,
    pub csrf: String,
    /// When both sessions end (RFC 3339, UTC).
    pub expires_at: String,
}

/// `POST /api/admin/setup`: the first admin password, with the one-time
/// token the server printed when it started without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupRequest {
    pub token: String,
    pub password: String,
}

/// How a session's token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// HttpOnly cookie; changes need the `X-CSRF-Token` header.
    Cookie,
    /// `Authorization: Bearer`; a browser never attaches it by itself, so
    /// no CSRF token is needed.
    Bearer,
}

/// Answer of `GET /api/admin/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    pub username: String,
    pub kind: SessionKind,
    /// The value to send in `X-CSRF-Token` (needed by cookie sessions).
    pub csrf: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

/// `POST /api/admin/meetings`. Only `title` is required; without
/// `starts_at` the meeting is instant (open at any time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CreateMeeting {
    pub title: String,
    /// 4 to 32 characters; absent, `null` or `""` means no passcode.
    #[serde(default)]
    #[ts(optional)]
    pub passcode: Option<String>,
    /// Participants wait until the host admits them. Default `false`.
    #[serde(default)]
    #[ts(optional)]
    pub lobby: Option<bool>,
    /// Listed on the welcome page. Default `false`.
    #[serde(default)]
    #[ts(optional)]
    pub public: Option<bool>,
    /// RFC 3339, any offset, e.g. `"2026-12-01T09:00:00+01:00"`.
    #[serde(default)]
    #[ts(optional)]
    pub starts_at: Option<String>,
    /// 1 to 1440; default 60 for scheduled meetings.
    #[serde(default)]
    #[ts(optional)]
    pub duration_minutes: Option<u32>,
    /// Repeats every 7 days from `starts_at`. Default `false`.
    #[serde(default)]
    #[ts(optional)]
    pub weekly: Option<bool>,
}

/// `PATCH /api/admin/meetings/{code}`. Absent fields stay as they are;
/// `null` clears `passcode`, and clears `starts_at` (which makes the meeting
/// instant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeeting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(optional)]
    pub passcode: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub lobby: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub public: Option<bool>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[ts(optional)]
    pub starts_at: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub duration_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub weekly: Option<bool>,
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`,
/// through `#[serde(default)]`), which plain `Option` folds together.
fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A meeting as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MeetingDetails {
    /// Like `kqz-rmtp-wfa`.
    pub code: String,
    pub title: String,
    pub passcode: Option<String>,
    pub lobby: bool,
    pub public: bool,
    /// Grants host controls in the meeting. Shown only to admins.
    pub host_key: String,
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; `null` for an instant meeting.
    pub starts_at: Option<String>,
    /// `null` for an instant meeting.
    pub duration_minutes: Option<u32>,
    pub weekly: bool,
    /// `<base>/j/<code>`.
    pub join_url: String,
    /// The `.ics` download; `null` for an instant meeting.
    pub invite_url: Option<String>,
}

/// Answer of `GET /api/admin/meetings`: scheduled meetings by first start,
/// then instant meetings by creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MeetingList {
    pub meetings: Vec<MeetingDetails>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_snake_case_on_the_wire() {
        let body = AdminError {
            code: AdminErrorCode::TooManyAttempts,
            message: "Wait.".into(),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"code": "too_many_attempts", "message": "Wait."})
        );
    }

    #[test]
    fn create_meeting_needs_only_a_title() {
        let create: CreateMeeting = serde_json::from_str(r#"{"title":"Stand-up"}"#).unwrap();
        assert_eq!(create.title, "Stand-up");
        assert_eq!(create.starts_at, None);
    }

    #[test]
    fn update_meeting_tells_null_from_absent() {
        let clear: UpdateMeeting = serde_json::from_str(r#"{"passcode":null}"#).unwrap();
        assert_eq!(clear.passcode, Some(None));
        assert_eq!(clear.starts_at, None);
        let set: UpdateMeeting = serde_json::from_str(r#"{"passcode":"1234"}"#).unwrap();
        assert_eq!(set.passcode, Some(Some("1234".into())));
    }

    #[test]
    fn unknown_meeting_fields_are_refused() {
        let typo = serde_json::from_str::<CreateMeeting>(r#"{"title":"x","wekly":true}"#);
        assert!(typo.unwrap_err().to_string().contains("wekly"));
    }
}
