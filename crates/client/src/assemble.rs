//! VP8 frame assembly for one receive slot, sans-IO: RTP packets and the
//! time go in, whole frames and keyframe requests come out.
//!
//! Packets are kept by extended sequence number. A frame is the run of
//! packets from one that starts a frame (VP8 descriptor S=1, PID=0) to the
//! one with the marker bit, all with its RTP timestamp and none missing.
//! Frames leave in order, each one complete and following the last, so
//! the decoder never sees a frame built on a reference it did not get.
//! Two things break that order on purpose:
//!
//! - A **complete keyframe** leaves at once, whatever is missing before
//!   it: it needs no earlier frame, so waiting for their repairs only
//!   delays the picture (str0m's frame mode waited out every NACK round
//!   plus three round trips here, up to a second after an outage).
//! - A **gap that stays open** [`GAP_WAIT`] (repairs did not come) is
//!   given up: the frames after it cannot be decoded, so they are dropped
//!   and a keyframe is asked for, again every [`KEYFRAME_REQUEST_GAP`]
//!   until one arrives.
//!
//! # Driving contract
//!
//! Call [`Vp8Assembler::push`] for every packet of the slot, then
//! [`Vp8Assembler::poll`]; call `poll` again at
//! [`Vp8Assembler::poll_timeout`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::format::CodecExtra;
use str0m::unversioned::{Depacketizer, Vp8Depacketizer};

/// How long a hole in the sequence may wait for its NACK repair. A repair
/// of a packet lost between the SFU and us takes one round trip of that
/// leg; one lost between the publisher and the SFU takes a round trip of
/// that leg too, then the forwarding. On the impaired test link (30 ±
/// 30 ms each way, so 60–120 ms per round trip) that is up to about
/// 200 ms; on a LAN it is a few milliseconds. Waiting longer only freezes
/// the picture, since after this a keyframe round trip is the faster fix.
pub(crate) const GAP_WAIT: Duration = Duration::from_millis(250);
/// Least time between two keyframe requests for one slot; the decoder
/// thread keeps the same pace for its own (playback.rs).
pub(crate) const KEYFRAME_REQUEST_GAP: Duration = Duration::from_millis(300);
/// Packets held at most. A 720p keyframe is about 50 packets; this is
/// several seconds of the top layer. Beyond it the oldest go.
const MAX_PACKETS: usize = 512;
/// A packet this far ahead of the next expected one means the stream
/// started over: what is held is dropped.
const MAX_SPAN: u64 = 3_000;
/// No keyframe requests for a slot silent this long (its sender left).
const SILENT: Duration = Duration::from_secs(1);

/// One whole VP8 frame, payload descriptors removed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub(crate) data: Arc<[u8]>,
    /// Extended sequence number of its first packet.
    pub(crate) seq: u64,
    pub(crate) rtp_time: u32,
    /// False when frames before this one were lost or dropped.
    pub(crate) contiguous: bool,
    pub(crate) keyframe: bool,
    /// When its last packet arrived.
    pub(crate) arrival: Instant,
}

/// What the assembler produced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Assembled {
    Frame(Frame),
    /// The stream is broken until a keyframe: ask the sender for one.
    RequestKeyframe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The first packet of a frame.
    Start {
        keyframe: bool,
    },
    Middle,
    /// No VP8 in it (padding, or a payload that does not parse): it only
    /// fills its place in the sequence.
    Filler,
}

#[derive(Debug)]
struct Packet {
    ts: u32,
    marker: bool,
    kind: Kind,
    /// The VP8 bytes after the payload descriptor.
    data: Vec<u8>,
    arrival: Instant,
}

/// What is known of the frame starting at some sequence number.
#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// Whole: its last packet's sequence number.
    Complete(u64),
    /// Packets are missing and may still come.
    Incomplete,
    /// It can never complete (the next frame starts before its marker),
    /// or there is no frame start here.
    Broken,
}

/// Frame assembly for one VP8 stream. See the module documentation.
#[derive(Debug)]
pub(crate) struct Vp8Assembler {
    packets: BTreeMap<u64, Packet>,
    /// The first sequence number not yet emitted or dropped; `None` until
    /// the first keyframe (or after the stream started over).
    next: Option<u64>,
    /// Frames were dropped since the last one emitted.
    discontinuity: bool,
    /// Deltas cannot be decoded until a keyframe arrives.
    need_keyframe: bool,
    /// Since when the frame at `next` has waited for missing packets.
    gap_since: Option<Instant>,
    /// No keyframe request before this (a grace at the start, then the
    /// request pace).
    request_after: Option<Instant>,
    last_arrival: Option<Instant>,
}

impl Default for Vp8Assembler {
    fn default() -> Self {
        Self::new()
    }
}

impl Vp8Assembler {
    pub(crate) fn new() -> Self {
        Self {
            packets: BTreeMap::new(),
            next: None,
            discontinuity: false,
            need_keyframe: true,
            gap_since: None,
            request_after: None,
            last_arrival: None,
        }
    }

    /// Takes one RTP packet: extended sequence number, RTP timestamp,
    /// marker bit and payload.
    pub(crate) fn push(&mut self, seq: u64, ts: u32, marker: bool, payload: &[u8], now: Instant) {
        if self.last_arrival.is_none() {
            // At the start the SFU sends a keyframe of its own accord.
            self.request_after = Some(now + GAP_WAIT);
        } else if self.need_keyframe && self.request_after.is_none() {
            // Packets again after a silence, and still no keyframe.
            self.request_after = Some(now);
        }
        self.last_arrival = Some(now);
        if self.next.is_some_and(|n| seq < n) {
            return; // late: its frame was emitted or given up
        }
        let anchor = self.next.or_else(|| self.packets.keys().next().copied());
        if let Some(anchor) = anchor {
            if seq + MAX_SPAN < anchor {
                return; // far behind what is held: stale
            }
            if seq >= anchor + MAX_SPAN {
                tracing::debug!(seq, anchor, "VP8 stream jumped; starting over");
                self.start_over(now);
            }
        }
        let (kind, data) = depacketize(payload);
        let packet = Packet {
            ts,
            marker,
            kind,
            data,
            arrival: now,
        };
        self.packets.insert(seq, packet);
        while self.packets.len() > MAX_PACKETS {
            let Some((oldest, _)) = self.packets.pop_first() else {
                break;
            };
            if self.next.is_some_and(|n| oldest >= n) {
                self.next = Some(oldest + 1);
                self.lose(now, Duration::ZERO);
            }
        }
    }

    /// Emits the frames that can go and the keyframe request that is due.
    pub(crate) fn poll(&mut self, now: Instant, out: &mut Vec<Assembled>) {
        let before = self.next;
        while self.step(now, out) {}
        if self.next != before || !self.hole() {
            self.gap_since = None;
        }
        if self.hole() {
            let since = *self.gap_since.get_or_insert(now);
            if !self.need_keyframe && now >= since + GAP_WAIT {
                let held: Vec<(u64, u32, bool)> = self
                    .packets
                    .iter()
                    .take(8)
                    .map(|(s, p)| (*s, p.ts, p.marker))
                    .collect();
                tracing::debug!(next = ?self.next, ?held, "VP8 gap not repaired; waiting for a keyframe");
                self.lose(now, Duration::ZERO);
            }
        }
        if self.need_keyframe && self.request_after.is_some_and(|t| now >= t) {
            if self.last_arrival.is_some_and(|t| now < t + SILENT) {
                self.request_after = Some(now + KEYFRAME_REQUEST_GAP);
                out.push(Assembled::RequestKeyframe);
            } else {
                // Silent: its sender left or paused. Ask again when it is back.
                self.request_after = None;
            }
        }
    }

    /// When [`Self::poll`] has something to do without a new packet.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.need_keyframe {
            return self.request_after;
        }
        self.gap_since.map(|t| t + GAP_WAIT)
    }

    /// Emits or drops one frame; false when nothing more can happen now.
    fn step(&mut self, now: Instant, out: &mut Vec<Assembled>) -> bool {
        if let Some(next) = self.next {
            match self.packets.get(&next).map(|p| p.kind) {
                Some(Kind::Filler) => {
                    self.packets.remove(&next);
                    self.next = Some(next + 1);
                    return true;
                }
                Some(_) => match self.scan(next) {
                    Scan::Complete(end) => {
                        self.take(next, end, out);
                        return true;
                    }
                    Scan::Broken => {
                        self.drop_broken(next, now);
                        return true;
                    }
                    Scan::Incomplete => {}
                },
                None => {}
            }
        }
        // Waiting at `next`: a complete keyframe further on makes the wait
        // pointless.
        let Some((start, end)) = self.complete_keyframe() else {
            return false;
        };
        self.packets = self.packets.split_off(&start);
        self.discontinuity |= self.next.is_some_and(|n| n < start);
        self.take(start, end, out);
        true
    }

    /// Drops the packets of a frame that can never complete, up to the
    /// next frame start (or all held, if none is there yet).
    fn drop_broken(&mut self, from: u64, now: Instant) {
        let upto = self
            .packets
            .range(from + 1..)
            .find(|(_, p)| matches!(p.kind, Kind::Start { .. }))
            .map(|(&s, _)| s);
        let upto = upto.unwrap_or_else(|| self.packets.keys().next_back().map_or(from, |s| s + 1));
        self.packets = self.packets.split_off(&upto);
        self.next = Some(upto);
        // Cut short by a keyframe (the SFU resumed or switched layers at
        // one): it is on its way, so no request unless it stalls.
        let keyframe_next =
            self.packets.get(&upto).map(|p| p.kind) == Some(Kind::Start { keyframe: true });
        self.lose(
            now,
            if keyframe_next {
                GAP_WAIT
            } else {
                Duration::ZERO
            },
        );
    }

    /// Removes the frame `start..=end` and emits it, unless it is a delta
    /// the decoder could not use.
    fn take(&mut self, start: u64, end: u64, out: &mut Vec<Assembled>) {
        let rest = self.packets.split_off(&(end + 1));
        let frame = std::mem::replace(&mut self.packets, rest);
        self.next = Some(end + 1);
        self.gap_since = None;
        let Some(first) = frame.get(&start) else {
            return;
        };
        let keyframe = first.kind == (Kind::Start { keyframe: true });
        if self.need_keyframe && !keyframe {
            self.discontinuity = true;
            return;
        }
        let ts = first.ts;
        let arrival = frame
            .values()
            .map(|p| p.arrival)
            .max()
            .unwrap_or(first.arrival);
        let data: Vec<u8> = frame
            .into_values()
            .filter(|p| p.kind != Kind::Filler)
            .flat_map(|p| p.data)
            .collect();
        out.push(Assembled::Frame(Frame {
            data: data.into(),
            seq: start,
            rtp_time: ts,
            contiguous: !self.discontinuity,
            keyframe,
            arrival,
        }));
        self.discontinuity = false;
        if keyframe {
            self.need_keyframe = false;
        }
    }

    /// Whether the frame starting at `start` is whole.
    fn scan(&self, start: u64) -> Scan {
        let Some(first) = self.packets.get(&start) else {
            return Scan::Incomplete;
        };
        if !matches!(first.kind, Kind::Start { .. }) {
            return Scan::Broken;
        }
        let mut seq = start;
        loop {
            let Some(p) = self.packets.get(&seq) else {
                return Scan::Incomplete;
            };
            let foreign = p.ts != first.ts || matches!(p.kind, Kind::Start { .. });
            if seq != start && p.kind != Kind::Filler && foreign {
                return Scan::Broken;
            }
            if p.marker && p.kind != Kind::Filler {
                return Scan::Complete(seq);
            }
            seq += 1;
        }
    }

    /// The first complete keyframe after `next`.
    fn complete_keyframe(&self) -> Option<(u64, u64)> {
        let from = self.next.map_or(0, |n| n + 1);
        self.packets
            .range(from..)
            .filter(|(_, p)| p.kind == Kind::Start { keyframe: true })
            .find_map(|(&s, _)| match self.scan(s) {
                Scan::Complete(end) => Some((s, end)),
                _ => None,
            })
    }

    /// Whether packets are held beyond one that is missing. A frame whose
    /// tail has not come, with nothing after it, is no hole: its sender
    /// may have paused (the SFU switching layers), and it blocks nothing.
    fn hole(&self) -> bool {
        let Some(next) = self.next else {
            return !self.packets.is_empty();
        };
        // Everything held is at or after `next`.
        self.packets
            .last_key_value()
            .is_some_and(|(&last, _)| (self.packets.len() as u64) < last - next + 1)
    }

    /// Gives up on what is missing: only a keyframe helps now, and one is
    /// asked for after `grace`.
    fn lose(&mut self, now: Instant, grace: Duration) {
        self.discontinuity = true;
        if !self.need_keyframe {
            self.need_keyframe = true;
            self.request_after = Some(now + grace);
        }
    }

    fn start_over(&mut self, now: Instant) {
        self.packets.clear();
        self.next = None;
        self.gap_since = None;
        self.lose(now, Duration::ZERO);
    }
}

/// Strips the VP8 payload descriptor; says whether the packet starts a
/// frame, and if so whether a keyframe.
fn depacketize(payload: &[u8]) -> (Kind, Vec<u8>) {
    let mut vp8 = Vp8Depacketizer::default();
    let mut data = Vec::with_capacity(payload.len());
    let mut extra = CodecExtra::None;
    if vp8.depacketize(payload, &mut data, &mut extra).is_err() || data.is_empty() {
        return (Kind::Filler, Vec::new());
    }
    let kind = if vp8.s == 1 && vp8.pid == 0 {
        Kind::Start {
            keyframe: vp8.p == 0,
        }
    } else {
        Kind::Middle
    };
    (kind, data)
}

#[cfg(test)]
#[path = "assemble_tests.rs"]
mod tests;
