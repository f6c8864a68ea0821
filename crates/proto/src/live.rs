//! The live state of host mode as the admin console and metrics see it:
//! lines in use against the licence, per meeting, and each connection.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::signal::{ClientKind, ParticipantId};

/// One admitted connection holding a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LiveConnection {
    pub meeting: String,
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
