//! Confab's meeting client without UI: signalling, the WebRTC peer and the
//! media pipelines. The desktop app, tests and the `confab-bot` load tool
//! are built on it.
//!
//! [`Meeting::join`] connects to a host, says hello and joins; the returned
//! [`Events`] stream carries everything a UI shows. Microphone and camera
//! come from any `confab-devices` trait object (real or fake): audio is
//! sent as 20 ms Opus with the audio-level extension, video as one VP8
//! simulcast m-line (rids `l;m;h`) following the SFU's `send_layers`.
//! Others arrive in receive slots, are decoded per participant and
//! delivered as I420 pictures ([`Meeting::video`], the frame callback) and
//! as mixed audio to a speaker (and a per-participant callback).
//!
//! Layout: `session` (sans-IO signalling state: phases, slot map, layer
//! wishes, heartbeat timing), `peer` (the str0m peer in RTP mode,
//! sans-IO), `assemble` (VP8 frame assembly per receive slot, sans-IO),
//! `driver` (the tokio task owning the WebSocket and the UDP socket),
//! `capture` and `playback` (encoder and decoder threads), `bot` (what
//! `confab-bot` measures).

mod assemble;
pub mod bot;
mod capture;
mod driver;
mod error;
mod events;
mod meeting;
mod peer;
mod playback;
pub mod session;
mod signalling;
mod tls;

pub use capture::{LocalVideoCallback, SendStats};
pub use error::ClientError;
pub use events::{ConnectionState, MeetingEvent};
pub use meeting::{DEFAULT_RECEIVE_SLOTS, Events, JoinOptions, MediaOptions, Meeting};
pub use playback::{AudioCallback, FrameCallback, LatestFrame, ReceiveStats};
pub use signalling::ServerUrl;
pub use tls::{connect_pinned, fingerprint};

pub use confab_proto::signal::{ClientKind, ErrorCode, LeaveReason, ParticipantId};
