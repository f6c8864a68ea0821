//! An adaptive jitter buffer for one remote Opus stream.

use std::time::{Duration, Instant};

/// RTP timestamp ticks in one 20 ms frame at 48 kHz.
const TS_PER_FRAME: i64 = 960;
const FRAME_MS: f64 = 20.0;
/// Packets held at most: 1.28 s of audio, far beyond any delay we would
/// choose to add, so a full buffer means a broken or hostile sender.
const SLOTS: usize = 64;
/// Transit-time samples the delay target is computed from: four seconds at
/// 50 packets a second. Long enough to see a jitter pattern, short enough
/// to shrink back within seconds once the link calms.
const WINDOW: usize = 200;
/// The share of packets the target delay must be early enough for.
const PERCENTILE: f64 = 0.97;
/// Shrinking drops a frame of audio; doing it at most this often keeps a
/// noisy estimate from chopping speech.
const SHRINK_INTERVAL: Duration = Duration::from_millis(500);
/// How long after a lost packet the buffer keeps one extra
/// frame of delay, so that the packet after a lost one is already here to
/// recover it from (Opus in-band FEC). Ten seconds covers the typical
/// spacing of losses on a lossy link; a clean link never pays for it.
const FEC_LOOKAHEAD_HOLD: Duration = Duration::from_secs(10);
/// Payload room reserved per slot, so storing a packet does not allocate
/// (an Opus frame is at most 1275 bytes).
const PAYLOAD_CAPACITY: usize = 1500;

/// What to play for this 20 ms tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// Nothing has arrived yet: play silence, do not run the decoder.
    Idle,
    /// Decode this packet.
    Decode { seq: u16, payload: &'a [u8] },
    /// Packet `lost_seq` is missing but the next one is here: rebuild the
    /// lost frame from its FEC data (`OpusDecoder::recover_from_next`). The
    /// next packet is decoded normally on the next tick.
    Fec {
        lost_seq: u16,
        next_payload: &'a [u8],
    },
    /// Run the decoder's concealment (`OpusDecoder::conceal`).
    Conceal(Concealment),
}

/// Why a tick is concealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concealment {
    /// The packet is known lost (a later one arrived) and carries no FEC.
    Loss,
    /// Nothing to play: the packet is late or lost and no later one is here.
    Underrun,
    /// The sender is in DTX (sequence numbers run on but the timestamp
    /// jumped): the decoder plays comfort noise.
    Silence,
    /// The buffer is adding 20 ms of delay to cover more jitter.
    Stretch,
}

/// Counters for tests, logs and RTCP receiver reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub received: u64,
    pub decoded: u64,
    pub fec: u64,
    pub concealed_loss: u64,
    pub underruns: u64,
    pub silence: u64,
    pub stretched: u64,
    /// Frames dropped to shrink the delay.
    pub skipped: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Sequence numbers playout passed without the packet (lost, or late
    /// and already passed when they came).
    pub lost: u64,
    pub duplicates: u64,
    /// Packets too far ahead of playout to hold.
    pub overflow: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Empty,
    Waiting,
    Played,
}

#[derive(Debug)]
struct Slot {
    seq: u64,
    ts: i64,
    state: SlotState,
    payload: Vec<u8>,
}

/// An adaptive jitter buffer for one remote audio stream (20 ms Opus).
///
/// # Driving contract
///
/// The buffer is sans-IO: it owns no clock, socket or thread, so tests run
/// it on virtual time. Its driver
///
/// - calls [`JitterBuffer::push`] for every RTP packet of the stream as it
///   arrives, with the arrival time, in any order, duplicates included;
/// - calls [`JitterBuffer::tick`] once per 20 ms of playout, paced by the
///   speaker (the mixer's pull), with the current time, and feeds what it
///   returns to the stream's `OpusDecoder`: decode, recover from FEC, or
///   conceal. The returned payload borrows the buffer until the next call.
///
/// Between the two the buffer reorders packets, drops duplicates and
/// packets that come too late to play, and adapts the playout delay: it
/// measures each packet's transit time against the stream's own clock (RTP
/// timestamps), and keeps the delay just long enough for the 97th
/// percentile of the last four seconds of packets. On a clean link that is
/// no added delay beyond the wait for the next tick (< 20 ms). It grows by
/// concealing a frame in place of playing one ([`Concealment::Stretch`]) and
/// shrinks by skipping a frame, at most every 500 ms. No call allocates.
#[derive(Debug)]
pub struct JitterBuffer {
    slots: Vec<Slot>,
    /// Arrival time and timestamp of the first packet: transit times and
    /// the playout offset are measured from here.
    anchor: Option<(Instant, i64)>,
    highest_seq: Option<u64>,
    highest_ts: Option<i64>,
    /// Highest sequence number played or given up.
    last_seq: u64,
    /// Timestamp of the next frame to play; `None` until playout starts.
    play_ts: Option<i64>,
    transit: [f64; WINDOW],
    transit_len: usize,
    transit_pos: usize,
    scratch: [f64; WINDOW],
    /// The playout offset that covers the percentile, in ms since anchor.
    wanted_offset_ms: f64,
    min_transit_ms: f64,
    last_shrink: Option<Instant>,
    /// Keep a frame of FEC look-ahead until then (set by a loss).
    lookahead_until: Option<Instant>,
    lookahead: bool,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// Extends a 16-bit RTP sequence number to 64 bits, nearest to `last`.
fn unwrap_seq(last: Option<u64>, v: u16) -> u64 {
    match last {
        // Start one wrap in, so a reordered packet just before the first
        // one does not underflow.
        None => (1 << 16) + u64::from(v),
        Some(last) => {
            let delta = i64::from(v.wrapping_sub(last as u16) as i16);
            last.saturating_add_signed(delta)
        }
    }
}

/// Extends a 32-bit RTP timestamp, nearest to `last`.
fn unwrap_ts(last: Option<i64>, v: u32) -> i64 {
    match last {
        None => i64::from(v),
        Some(last) => last + i64::from(v.wrapping_sub(last as u32) as i32),
    }
}

impl JitterBuffer {
    pub fn new() -> Self {
        let slots = (0..SLOTS)
            .map(|_| Slot {
                seq: 0,
                ts: 0,
                state: SlotState::Empty,
                payload: Vec::with_capacity(PAYLOAD_CAPACITY),
            })
            .collect();
        Self {
            slots,
            anchor: None,
            highest_seq: None,
            highest_ts: None,
            last_seq: 0,
            play_ts: None,
            transit: [0.0; WINDOW],
            transit_len: 0,
            transit_pos: 0,
            scratch: [0.0; WINDOW],
            wanted_offset_ms: 0.0,
            min_transit_ms: 0.0,
            last_shrink: None,
            lookahead_until: None,
            lookahead: false,
            stats: JitterStats::default(),
        }
    }

    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// The delay the buffer currently aims to add: the 97th percentile of
    /// recent transit times above the fastest one, plus a frame of FEC
    /// look-ahead while the link is losing packets.
    pub fn target_delay(&self) -> Duration {
        let ms = self.wanted_ms() - self.min_transit_ms;
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }

    fn wanted_ms(&self) -> f64 {
        self.wanted_offset_ms + if self.lookahead { FRAME_MS } else { 0.0 }
    }

    /// Takes one arriving packet (see the driving contract).
    pub fn push(&mut self, seq: u16, rtp_ts: u32, payload: &[u8], arrival: Instant) {
        let seq = unwrap_seq(self.highest_seq, seq);
        let ts = unwrap_ts(self.highest_ts, rtp_ts);
        if self.highest_seq.is_none_or(|h| seq > h) {
            self.highest_seq = Some(seq);
            self.highest_ts = Some(ts);
        }
        let (t0, ts0) = *self.anchor.get_or_insert((arrival, ts));
        self.stats.received += 1;
        // Late packets count too: they are the jitter the delay must cover.
        let transit = ms_between(t0, arrival) - (ts - ts0) as f64 / 48.0;
        self.record_transit(transit);

        let slot = &self.slots[(seq % SLOTS as u64) as usize];
        if slot.state != SlotState::Empty && slot.seq == seq {
            self.stats.duplicates += 1;
            return;
        }
        if let Some(play_ts) = self.play_ts {
            if seq <= self.last_seq || ts < play_ts {
                self.stats.late += 1;
                if seq == self.last_seq + 1 {
                    // Its turn came and went (an underrun); do not count it
                    // lost as well when playout moves past it.
                    self.last_seq = seq;
                }
                return;
            }
            if seq > self.last_seq + SLOTS as u64 {
                self.stats.overflow += 1;
                return;
            }
        } else if slot.state == SlotState::Waiting {
            // Before playout starts the ring has no origin yet; a clash
            // means the sender jumped more than 64 packets.
            self.stats.overflow += 1;
            return;
        }
        let slot = &mut self.slots[(seq % SLOTS as u64) as usize];
        slot.seq = seq;
        slot.ts = ts;
        slot.state = SlotState::Waiting;
        slot.payload.clear();
        slot.payload.extend_from_slice(payload);
    }

    fn record_transit(&mut self, transit_ms: f64) {
        self.transit[self.transit_pos] = transit_ms;
        self.transit_pos = (self.transit_pos + 1) % WINDOW;
        self.transit_len = (self.transit_len + 1).min(WINDOW);
        let window = &mut self.scratch[..self.transit_len];
        window.copy_from_slice(&self.transit[..self.transit_len]);
        let rank = ((PERCENTILE * window.len() as f64).ceil() as usize).clamp(1, window.len()) - 1;
        let (_, p, _) = window.select_nth_unstable_by(rank, f64::total_cmp);
        self.wanted_offset_ms = *p;
        self.min_transit_ms = window.iter().copied().fold(f64::INFINITY, f64::min);
    }

    /// Says what to play for the next 20 ms (see the driving contract).
    pub fn tick(&mut self, now: Instant) -> Playout<'_> {
        let Some((t0, ts0)) = self.anchor else {
            return Playout::Idle;
        };
        let play_ts = match self.play_ts {
            Some(ts) => ts,
            None => match self.start() {
                Some(ts) => ts,
                None => return Playout::Idle,
            },
        };
        self.lookahead = self.lookahead_until.is_some_and(|t| now < t);
        let wanted = self.wanted_ms();
        let offset_ms = ms_between(t0, now) - (play_ts - ts0) as f64 / 48.0;
        // Half a millisecond of slack absorbs float rounding on a clean link.
        if offset_ms + 0.5 < wanted {
            self.stats.stretched += 1;
            return Playout::Conceal(Concealment::Stretch);
        }
        if offset_ms - FRAME_MS >= wanted
            && self
                .last_shrink
                .is_none_or(|t| now.saturating_duration_since(t) >= SHRINK_INTERVAL)
        {
            self.last_shrink = Some(now);
            self.stats.skipped += 1;
            self.play_ts = Some(play_ts + TS_PER_FRAME);
            self.drop_older_than(play_ts + TS_PER_FRAME);
        }
        self.play_next(now)
    }

    /// Starts playout at the earliest packet held.
    fn start(&mut self) -> Option<i64> {
        let first = self
            .slots
            .iter()
            .filter(|s| s.state == SlotState::Waiting)
            .min_by_key(|s| s.seq)?;
        let (seq, ts) = (first.seq, first.ts);
        self.last_seq = seq - 1;
        self.play_ts = Some(ts);
        Some(ts)
    }

    /// Gives up on waiting packets that can no longer be played.
    fn drop_older_than(&mut self, ts: i64) {
        for slot in &mut self.slots {
            if slot.state == SlotState::Waiting && slot.ts < ts {
                slot.state = SlotState::Played;
                self.last_seq = self.last_seq.max(slot.seq);
            }
        }
    }

    fn next_waiting(&self) -> Option<usize> {
        (self.last_seq + 1..=self.last_seq + SLOTS as u64).find_map(|seq| {
            let i = (seq % SLOTS as u64) as usize;
            let s = &self.slots[i];
            (s.state == SlotState::Waiting && s.seq == seq).then_some(i)
        })
    }

    fn play_next(&mut self, now: Instant) -> Playout<'_> {
        let lost_before = self.stats.lost;
        let playout = self.choose_next();
        if self.stats.lost > lost_before {
            self.lookahead_until = Some(now + FEC_LOOKAHEAD_HOLD);
        }
        match playout {
            Choice::Decode(i) => Playout::Decode {
                seq: self.slots[i].seq as u16,
                payload: &self.slots[i].payload,
            },
            Choice::Fec(i) => Playout::Fec {
                lost_seq: (self.slots[i].seq - 1) as u16,
                next_payload: &self.slots[i].payload,
            },
            Choice::Conceal(c) => Playout::Conceal(c),
        }
    }

    /// Picks what plays at the current timestamp and advances playout.
    fn choose_next(&mut self) -> Choice {
        let play_ts = self.play_ts.unwrap_or_default();
        self.play_ts = Some(play_ts + TS_PER_FRAME);
        let Some(i) = self.next_waiting() else {
            self.stats.underruns += 1;
            return Choice::Conceal(Concealment::Underrun);
        };
        let (seq, ts) = (self.slots[i].seq, self.slots[i].ts);
        let missing = seq - self.last_seq - 1;
        if ts <= play_ts {
            // `ts < play_ts` cannot happen (such packets are dropped on
            // arrival or by a skip), so this is the frame due now.
            self.slots[i].state = SlotState::Played;
            self.last_seq = seq;
            self.stats.decoded += 1;
            // Frames concealed by underruns earlier, now known lost.
            self.stats.lost += missing;
            return Choice::Decode(i);
        }
        let frames_ahead = ((ts - play_ts) / TS_PER_FRAME) as u64;
        if missing == 0 {
            self.stats.silence += 1;
            Choice::Conceal(Concealment::Silence)
        } else if frames_ahead == 1 {
            self.last_seq = seq - 1;
            self.stats.fec += 1;
            self.stats.lost += missing;
            Choice::Fec(i)
        } else {
            // Give up on the lost packet whose turn this was, if the gap
            // is all loss (not a DTX pause with a loss in it).
            if missing >= frames_ahead {
                self.last_seq = seq - frames_ahead;
                self.stats.lost += missing + 1 - frames_ahead;
            }
            self.stats.concealed_loss += 1;
            Choice::Conceal(Concealment::Loss)
        }
    }
}

/// [`Playout`] by slot index, so the choice can be made with `&mut self`
/// and the payload borrowed afterwards.
#[derive(Debug, Clone, Copy)]
enum Choice {
    Decode(usize),
    Fec(usize),
    Conceal(Concealment),
}

fn ms_between(earlier: Instant, later: Instant) -> f64 {
    if later >= earlier {
        (later - earlier).as_secs_f64() * 1000.0
    } else {
        -((earlier - later).as_secs_f64() * 1000.0)
    }
}

#[cfg(test)]
#[path = "jitter_tests.rs"]
mod tests;
