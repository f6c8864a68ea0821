//! The SFU forwarding core: one [`str0m::Rtc`] per peer, all on one UDP
//! port, forwarding RTP between the peers of a room without decoding it.
//!
//! # Driving contract
//!
//! [`Sfu`] is sans-IO, like str0m underneath it: it owns no socket, task
//! or clock, and every call takes the current time. The driver owns the
//! one UDP socket and
//!
//! 1. feeds every datagram to [`Sfu::handle_receive`] with the address it
//!    came from and the local address it arrived on;
//! 2. after **any** call that changes the SFU (a datagram, [`Sfu::add_peer`],
//!    [`Sfu::replace_peer`], [`Sfu::remove_peer`], [`Sfu::set_view`]) calls [`Sfu::poll`] until it
//!    returns [`SfuOutput::Timeout`], sending every
//!    [`SfuOutput::Transmit`] and acting on every [`SfuOutput::Event`];
//! 3. calls [`Sfu::poll`] again no later than that timeout even if no
//!    datagram arrived (it drives retransmissions, keep-alives, keyframe
//!    retries, layer choice and the active speaker).
//!
//! Time must not go backwards between calls. Feeding several datagrams
//! before polling is allowed (each is taken from its peer's `Rtc` at
//! once), but the transmits wait in the SFU until `poll`.
//!
//! The timeout may be coarse: a driver woken a millisecond late (tokio's
//! timer) loses nothing. str0m's pacer asks for a timeout a microsecond
//! after every packet it lets out; `poll` answers those at once while
//! packets the SFU forwarded are waiting, so what the pacer's budget
//! allows leaves in one poll, not one packet per wake-up.
//!
//! # Subscriptions: pre-allocated slots, no renegotiation
//!
//! Each client makes **one** offer when it joins and never renegotiates:
//!
//! - one `sendonly` audio m-line (Opus, with the RFC 6464 audio-level
//!   extension) and one `sendonly` video m-line (VP8) with simulcast,
//!   rids listed lowest layer first (`a=simulcast:send l;m;h`);
//! - N `recvonly` audio and N `recvonly` video m-lines: the *slots* in
//!   which it receives other participants (N = the meeting's size - 1).
//!
//! The SFU answers, and pairs a free audio slot and a free video slot of
//! every subscriber with every other publisher in the room
//! ([`SfuEvent::Subscribed`] names the mids, and the server tells the
//! client whose they are). When a publisher leaves, its slots are freed
//! ([`SfuEvent::Unsubscribed`]) and reused for the next one to join.
//!
//! Why: str0m, browsers and our client all handle a fixed set of
//! transceivers well, and nothing needs an offer from the server, so
//! there is no glare, no waiting for answers while people join and leave,
//! and no SDP round trip on the signalling socket after the first. The
//! cost is that a client reserves slots for the largest meeting it may
//! see; recvonly m-lines with no media cost a few SDP lines each.
//!
//! A slot keeps one SSRC for its life. What flows into it is stitched
//! into one continuous stream (sequence numbers, timestamps, VP8 picture
//! IDs rewritten) across simulcast layer switches and publisher changes,
//! and switches happen only at keyframes; see `rewrite.rs`.
//!
//! # Media policy
//!
//! - NACK/RTX is str0m's, on each leg separately: the SFU NACKs what it
//!   misses from a publisher, and answers a subscriber's NACKs from its
//!   own send cache.
//! - A keyframe (PLI) is requested from the publisher when a subscriber
//!   starts receiving it, when a subscriber's layer changes, when a
//!   subscriber asks (its PLI goes to the layer it receives), and when a
//!   layer comes back from a lost burst (silent ≥ 250 ms, packets
//!   missing): its subscribers then resume at that keyframe with no gap
//!   in their sequence, rather than wait on NACKs for stale frames.
//! - Per subscriber and publisher, the layer is the smallest that fills
//!   the tile from [`Sfu::set_view`], lowered while the sum exceeds the
//!   subscriber's TWCC bandwidth estimate; the estimator is told what the
//!   tiles would take, so it probes back up when a link recovers. A
//!   subscriber drops a layer at once but climbs only when the higher one
//!   fits in 80% of the budget, and a paused layer keeps the cost it had
//!   when it last flowed, so layers do not flap. Layers
//!   no subscriber wants are reported with [`SfuEvent::LayersWanted`] so
//!   the publisher can pause them.
//! - The active speaker per room comes from audio levels with hysteresis
//!   ([`SfuEvent::ActiveSpeaker`]).

mod error;
mod forward;
mod ids;
mod layers;
mod peer;
mod policy;
mod rewrite;
mod rooms;
mod sfu;
mod speaker;
mod stun;
#[cfg(feature = "test-client")]
pub mod test_client;
mod vp8;

use std::net::SocketAddr;
use std::time::Instant;

pub use error::SfuError;
pub use layers::View;
pub use sfu::{Sfu, SfuStats, Subscription};
pub use str0m::media::{Mid, Rid};
pub use stun::is_rtp;

/// Identifies a peer (one WebRTC connection); chosen by the server.
pub type PeerId = u64;

/// Identifies a room (one live meeting); chosen by the server.
pub type RoomId = u64;

/// What the driver must do next; see the driving contract.
#[derive(Debug)]
pub enum SfuOutput {
    /// Send `bytes` from the local address `source` to `destination`.
    Transmit {
        source: SocketAddr,
        destination: SocketAddr,
        bytes: Vec<u8>,
    },
    /// Something the server should know or tell a client.
    Event(SfuEvent),
    /// Nothing more to do until this time (or the next input).
    Timeout(Instant),
}

/// Something the server should act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// ICE and DTLS are up: media flows.
    Connected { peer: PeerId },
    /// `subscriber` receives `publisher` in these slots.
    Subscribed {
        subscriber: PeerId,
        publisher: PeerId,
        audio: Option<Mid>,
        video: Option<Mid>,
    },
    /// `subscriber` no longer receives `publisher` (it left); its slots are free.
    Unsubscribed {
        subscriber: PeerId,
        publisher: PeerId,
    },
    /// `subscriber` has no free slot for `publisher`: its offer had too
    /// few. It receives `shown` of the `others` in its room; when a slot
    /// frees up, it goes to someone not received ([`SfuEvent::Subscribed`]).
    NoFreeSlot {
        subscriber: PeerId,
        publisher: PeerId,
        shown: usize,
        others: usize,
    },
    /// The simulcast layers of `publisher` that someone receives; the
    /// others may be paused. Sent when the set changes.
    LayersWanted { publisher: PeerId, rids: Vec<Rid> },
    /// The loudest peer in `room` changed.
    ActiveSpeaker { room: RoomId, peer: PeerId },
    /// The SFU dropped a peer by itself (the server frees its seat).
    /// After [`Sfu::remove_peer`] there is no such event.
    PeerClosed { peer: PeerId, reason: CloseReason },
}

/// Why the SFU dropped a peer on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// ICE saw no traffic from the peer for too long, or failed.
    IceDisconnected,
    /// The peer did not connect in time after joining.
    ConnectTimeout,
    /// DTLS closed or str0m reported a fatal error.
    Closed,
}

/// How the SFU is set up.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The addresses of the one UDP socket as clients reach it; each
    /// becomes a host candidate in every answer.
    pub candidates: Vec<SocketAddr>,
    /// Starting bandwidth estimate per subscriber, bits per second.
    pub initial_bitrate: u64,
}
