//! One outgoing stream stitched from segments of incoming ones.
//!
//! A subscriber's slot carries one SSRC for its whole life, but what feeds
//! it changes: another simulcast layer after a switch, another publisher
//! after a leave and join. Each change starts a *segment* at a keyframe
//! (video) or any packet (audio). Within a segment the sequence number,
//! RTP timestamp and VP8 picture ID are shifted by constant offsets, so
//! gaps stay gaps (the subscriber NACKs them and str0m's RTX cache answers)
//! and packets repaired upstream slot back into place. A segment cut short
//! because its source lost a burst stays mapped for those repairs after
//! the next one starts: the subscriber is still waiting for them.

use std::time::Instant;

const PICTURE_ID_MODULO: u32 = 1 << 15;

/// Rewrites sequence numbers, timestamps and picture IDs for one slot.
#[derive(Debug)]
pub(crate) struct Rewriter {
    clock_rate: u32,
    segment: Option<Segment>,
    /// The segment before, when the current one continues the same source.
    previous: Option<Segment>,
    /// Highest outgoing sequence number so far; a new segment continues after it.
    last_seq: u64,
    /// Timestamp and picture ID of the packet with `last_seq`.
    last_ts: u32,
    last_picture_id: Option<u16>,
    last_sent_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    first_in_seq: u64,
    seq_base: u64,
    ts_offset: u32,
    picture_id_offset: Option<u16>,
}

/// Where one incoming packet lands in the outgoing stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rewritten {
    pub(crate) seq: u64,
    pub(crate) ts: u32,
    pub(crate) picture_id: Option<u16>,
}

impl Rewriter {
    pub(crate) fn new(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            segment: None,
            previous: None,
            // Outgoing streams start with a rollover counter of zero, which
            // the receiver assumes without signalling (RFC 3711 §3.3.1).
            last_seq: 0,
            last_ts: 0,
            last_picture_id: None,
            last_sent_at: None,
        }
    }

    /// Starts a segment at this packet: it follows the last one sent
    /// after as much media time as wall time has passed. `same_source`
    /// says it continues the stream of an [`interrupt`](Self::interrupt)ed
    /// segment, whose late repairs are then still placed.
    pub(crate) fn start_segment(
        &mut self,
        now: Instant,
        in_seq: u64,
        in_ts: u32,
        in_picture_id: Option<u16>,
        same_source: bool,
    ) {
        if !same_source {
            self.previous = None;
        }
        let elapsed = self
            .last_sent_at
            .map(|at| now.saturating_duration_since(at))
            .unwrap_or_default();
        let ticks = (elapsed.as_secs_f64() * f64::from(self.clock_rate)) as u32;
        let ts = self.last_ts.wrapping_add(ticks.max(1));
        let picture_id_offset = in_picture_id.map(|pid| {
            let next = self.last_picture_id.map_or(0, |p| u32::from(p) + 1);
            ((next + PICTURE_ID_MODULO - u32::from(pid)) % PICTURE_ID_MODULO) as u16
        });
        self.segment = Some(Segment {
            first_in_seq: in_seq,
            seq_base: self.last_seq + 1,
            ts_offset: ts.wrapping_sub(in_ts),
            picture_id_offset,
        });
    }

    /// Maps a packet of the current segment, or `None` for packets from
    /// before it (late retransmissions of what came before the switch).
    pub(crate) fn map(
        &mut self,
        now: Instant,
        in_seq: u64,
        in_ts: u32,
        in_picture_id: Option<u16>,
    ) -> Option<Rewritten> {
        let Some(segment) = self.segment else {
            let last = self.last_seq;
            let previous = self.previous?;
            return previous
                .place(in_seq, in_ts, in_picture_id)
                .filter(|r| r.seq <= last);
        };
        if in_seq < segment.first_in_seq {
            // Only into the holes the interrupted segment left behind.
            let previous = self.previous?;
            return previous
                .place(in_seq, in_ts, in_picture_id)
                .filter(|r| r.seq < segment.seq_base);
        }
        let Rewritten {
            seq,
            ts,
            picture_id,
        } = segment.place(in_seq, in_ts, in_picture_id)?;
        if seq > self.last_seq {
            self.last_seq = seq;
            self.last_ts = ts;
            self.last_picture_id = picture_id.or(self.last_picture_id);
            self.last_sent_at = Some(now);
        }
        Some(Rewritten {
            seq,
            ts,
            picture_id,
        })
    }

    /// Whether a segment has started (the slot has something to send).
    pub(crate) fn is_started(&self) -> bool {
        self.segment.is_some()
    }

    /// Stops forwarding until the next segment starts.
    pub(crate) fn end_segment(&mut self) {
        self.segment = None;
        self.previous = None;
    }

    /// Stops forwarding until the source's next keyframe, keeping what was
    /// sent placed for repairs (see the module's documentation).
    pub(crate) fn interrupt(&mut self) {
        self.previous = self.segment.take().or(self.previous);
    }
}

impl Segment {
    fn place(&self, in_seq: u64, in_ts: u32, in_picture_id: Option<u16>) -> Option<Rewritten> {
        let delta = in_seq.checked_sub(self.first_in_seq)?;
        let picture_id = match (in_picture_id, self.picture_id_offset) {
            (Some(pid), Some(offset)) => {
                Some(((u32::from(pid) + u32::from(offset)) % PICTURE_ID_MODULO) as u16)
            }
            (pid, _) => pid,
        };
        Some(Rewritten {
            seq: self.seq_base + delta,
            ts: in_ts.wrapping_add(self.ts_offset),
            picture_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn sequence_stays_continuous_across_a_switch_and_gaps_stay_gaps() {
        let t0 = Instant::now();
        let mut rw = Rewriter::new(90_000);
        rw.start_segment(t0, 500, 10_000, Some(7), false);
        assert_eq!(rw.map(t0, 500, 10_000, Some(7)).map(|r| r.seq), Some(1));
        // 501 was lost upstream: 502 keeps its place, and the repair fills it.
        let last = rw.map(t0, 502, 13_000, Some(8)).expect("in segment");
        assert_eq!(last.seq, 3);
        assert_eq!(rw.map(t0, 501, 10_000, Some(7)).map(|r| r.seq), Some(2));

        // Another layer with its own numbering, switched to 100 ms later.
        let t1 = t0 + Duration::from_millis(100);
        rw.start_segment(t1, 9_000, 4_000_000, Some(300), false);
        let first = rw.map(t1, 9_000, 4_000_000, Some(300)).expect("in segment");
        assert_eq!(first.seq, 4);
        assert_eq!(first.ts.wrapping_sub(last.ts), 9_000);
        assert_eq!(first.picture_id, last.picture_id.map(|p| p + 1));
        let next = rw.map(t1, 9_001, 4_003_000, Some(301)).expect("in segment");
        assert_eq!((next.seq, next.ts.wrapping_sub(first.ts)), (5, 3_000));
        // A late retransmission numbered before the switch is dropped.
        assert_eq!(rw.map(t1, 8_999, 3_997_000, Some(299)), None);
    }

    #[test]
    fn picture_id_wraps_at_fifteen_bits() {
        let t0 = Instant::now();
        let mut rw = Rewriter::new(90_000);
        rw.start_segment(t0, 1, 0, Some(0x7ffe), false);
        for (seq, pid) in [(1, 0x7ffe), (2, 0x7fff), (3, 0), (4, 1)] {
            rw.map(t0, seq, 0, Some(pid));
        }
        rw.start_segment(t0, 50, 0, Some(0x7fff), false);
        assert_eq!(
            rw.map(t0, 50, 0, Some(0x7fff)).and_then(|r| r.picture_id),
            Some(4)
        );
        assert_eq!(
            rw.map(t0, 51, 0, Some(0)).and_then(|r| r.picture_id),
            Some(5)
        );
    }

    #[test]
    fn nothing_is_forwarded_outside_a_segment() {
        let t0 = Instant::now();
        let mut rw = Rewriter::new(48_000);
        assert_eq!(rw.map(t0, 1, 0, None), None);
        rw.start_segment(t0, 1, 0, None, false);
        assert!(rw.is_started());
        rw.end_segment();
        assert_eq!(rw.map(t0, 2, 960, None), None);
    }

    #[test]
    fn repairs_of_an_interrupted_segment_fill_its_holes_after_the_resync() {
        let t0 = Instant::now();
        let mut rw = Rewriter::new(90_000);
        rw.start_segment(t0, 100, 0, Some(1), false);
        for seq in [100, 101, 103] {
            rw.map(t0, seq, 0, Some(1));
        }
        // 102 was lost, then everything up to 150: resume at a keyframe.
        rw.interrupt();
        assert_eq!(
            rw.map(t0, 104, 0, Some(2)),
            None,
            "nothing new between segments"
        );
        assert_eq!(
            rw.map(t0, 102, 0, Some(1)).map(|r| r.seq),
            Some(3),
            "but repairs"
        );
        let t1 = t0 + Duration::from_millis(500);
        rw.start_segment(t1, 151, 90_000, Some(20), true);
        let key = rw.map(t1, 151, 90_000, Some(20)).expect("in segment");
        assert_eq!(key.seq, 5, "the new segment follows the last packet sent");
        // The repair of 102 lands in its hole...
        assert_eq!(rw.map(t1, 102, 0, Some(1)).map(|r| r.seq), Some(3));
        // ...but nothing of the old stream lands on the new one's numbers.
        assert_eq!(rw.map(t1, 104, 0, Some(2)), None);
        // A switch to another source forgets the old one.
        rw.interrupt();
        rw.start_segment(t1, 7_000, 0, Some(9), false);
        assert_eq!(rw.map(t1, 102, 0, Some(1)), None);
    }
}
