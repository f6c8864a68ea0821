//! Wire types shared by the Confab server, the meeting client and the UI.
//!
//! Everything here is plain data with serde derives and no I/O, so every
//! side of a connection agrees on one definition. The UI's TypeScript types
//! are generated from these (see [`bindings`]) and committed under
//! `ui/src/lib/generated/`; a test fails when the committed files are stale.

pub mod admin;
pub mod bindings;
mod http;
pub mod live;
pub mod signal;

pub use http::{GuestMeeting, Health, HealthStatus, ReadyFile, tls_fingerprint};
pub use live::{
    LicenceInfo, LinesSnapshot, LiveConnection, MeetingLines, UsageDay, UsageHistory, UsagePoint,
};
pub use signal::{ClientKind, ClientMessage, ErrorCode, ServerMessage};

/// Version of the signalling protocol spoken on `/ws`. A client states the
/// version it speaks in its first message; the server refuses versions it
/// does not know instead of guessing.
pub const PROTOCOL_VERSION: u32 = 1;
