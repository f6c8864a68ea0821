//! The live state of host mode as the admin console and metrics see it:
//! lines in use against the licence, per meeting, and each connection.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::signal::{ClientKind, ParticipantId};

/// One admitted connection holding a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LiveConnection {
    pub meeting: String,
    #[ts(type = "number")]
    pub participant: ParticipantId,
    pub name: String,
    pub kind: ClientKind,
    pub host: bool,
    /// Remote address of the connection (IP only).
    pub address: String,
    /// Unix milliseconds of admission.
    #[ts(type = "number")]
    pub connected_since_ms: u64,
    /// `false` while the connection is away and its line is held for a resume.
    pub connected: bool,
}

/// Lines in use for one meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MeetingLines {
    pub meeting: String,
    pub title: String,
    pub lines: u32,
    /// People waiting in the lobby: they hold no line.
    pub lobby: u32,
    pub locked: bool,
}

/// The PBX-style panel: lines in use out of licensed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinesSnapshot {
    pub in_use: u32,
    pub licensed: u32,
    pub meetings: Vec<MeetingLines>,
    pub connections: Vec<LiveConnection>,
    /// Joins refused because every line was in use, since the server started.
    #[ts(type = "number")]
    pub refused_joins: u64,
}

/// The licence as the admin console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LicenceInfo {
    /// `true` when a valid licence is installed; `false` means the free tier.
    pub licensed: bool,
    /// Lines available now.
    pub lines: u32,
    /// One sentence for every admin page, e.g. "Free tier: 5 lines (no licence installed)".
    pub summary: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licensee: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<String>,
    /// RFC 3339.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Why an installed file is not in force, when it is not.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Concurrent lines in one period of the usage chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UsagePoint {
    /// Start of the period, unix milliseconds.
    #[ts(type = "number")]
    pub at_ms: u64,
    /// Most lines in use at once during the period.
    pub peak: u32,
    /// Lines licensed at the end of the period.
    pub licensed: u32,
    /// Joins refused because every line was taken.
    pub refused: u32,
}

/// One day's peak, for sizing a licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UsageDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub peak: u32,
    pub licensed: u32,
    pub refused: u32,
}

/// Answer of `GET /api/admin/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UsageHistory {
    /// Length of each point's period, in minutes.
    pub bucket_minutes: u32,
    pub points: Vec<UsagePoint>,
    pub days: Vec<UsageDay>,
}
