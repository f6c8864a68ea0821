//! Active speaker from the RFC 6464 audio level each packet carries.
//!
//! A level is in -dBov (0 loudest, 127 silence). Each peer's loudness is
//! smoothed over a few hundred milliseconds; a new speaker takes over only
//! after leading by a margin for a hold time, so a cough or a shared laugh
//! does not flip everyone's layout.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::PeerId;

/// Smoothing per packet (20 ms audio): about 200 ms to settle.
const SMOOTHING: f32 = 0.9;
/// Below this smoothed loudness (127 - dBov) nobody is speaking.
const SPEECH_FLOOR: f32 = 127.0 - 50.0;
/// How much louder a challenger must be than the current speaker.
const MARGIN: f32 = 6.0;
/// How long a challenger must lead before taking over.
const HOLD: Duration = Duration::from_millis(500);
/// Without packets for this long (DTX, muted, gone) a peer counts as silent.
const STALE: Duration = Duration::from_millis(300);

#[derive(Debug)]
struct Loudness {
    smoothed: f32,
    last_packet: Instant,
}

/// Picks one room's active speaker.
#[derive(Debug, Default)]
pub(crate) struct SpeakerDetector {
    peers: HashMap<PeerId, Loudness>,
    current: Option<PeerId>,
    challenger: Option<(PeerId, Instant)>,
}

impl SpeakerDetector {
    /// Records one audio packet's level (`-dBov` as str0m reports it: 0 to -127).
    pub(crate) fn observe(&mut self, now: Instant, peer: PeerId, level: i8) {
        let loudness = 127.0 - f32::from(level.unsigned_abs().min(127));
        let entry = self.peers.entry(peer).or_insert(Loudness {
            smoothed: 0.0,
            last_packet: now,
        });
        entry.smoothed = entry.smoothed * SMOOTHING + loudness * (1.0 - SMOOTHING);
        entry.last_packet = now;
    }

    /// How many peers it tracks.
    pub(crate) fn len(&self) -> usize {
        self.peers.len()
    }

    /// Forgets a peer that left; the next [`Self::decide`] may pick another.
    pub(crate) fn forget(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
        if self.current == Some(peer) {
            self.current = None;
        }
        if self.challenger.is_some_and(|(p, _)| p == peer) {
            self.challenger = None;
        }
    }

    /// Returns the new active speaker when it changes.
    pub(crate) fn decide(&mut self, now: Instant) -> Option<PeerId> {
        let level = |d: &Self, p: PeerId| {
            d.peers
                .get(&p)
                .filter(|l| now.saturating_duration_since(l.last_packet) < STALE)
                .map_or(0.0, |l| l.smoothed)
        };
        let loudest = self
            .peers
            .keys()
            .copied()
            .map(|p| (p, level(self, p)))
            .filter(|&(_, l)| l >= SPEECH_FLOOR)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        let (candidate, candidate_level) = loudest;
        if Some(candidate) == self.current {
            self.challenger = None;
            return None;
        }
        let current_level = self.current.map_or(0.0, |p| level(self, p));
        if candidate_level < current_level + MARGIN {
            self.challenger = None;
            return None;
        }
        match self.challenger {
            Some((p, since)) if p == candidate => {
                if now.saturating_duration_since(since) >= HOLD || self.current.is_none() {
                    self.current = Some(candidate);
                    self.challenger = None;
                    return Some(candidate);
                }
            }
            _ => self.challenger = Some((candidate, now)),
        }
        None
    }

    /// The speaker decided last, if anyone holds the floor.
    pub(crate) fn current(&self) -> Option<PeerId> {
        self.current
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds 20 ms packets for `ms` with the given levels and returns every
    /// change `decide` (every 100 ms) reported.
    fn talk(
        d: &mut SpeakerDetector,
        start: Instant,
        ms: u64,
        levels: &[(PeerId, i8)],
    ) -> Vec<PeerId> {
        let mut changes = Vec::new();
        for t in (0..ms).step_by(20) {
            let now = start + Duration::from_millis(t);
            for &(peer, level) in levels {
                d.observe(now, peer, level);
            }
            if t % 100 == 0 {
                changes.extend(d.decide(now));
            }
        }
        changes
    }

    #[test]
    fn the_loud_peer_becomes_speaker_and_a_short_interjection_does_not_steal_it() {
        let t0 = Instant::now();
        let mut d = SpeakerDetector::default();
        assert_eq!(talk(&mut d, t0, 1_000, &[(1, -20), (2, -90)]), vec![1]);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(talk(&mut d, t1, 300, &[(1, -25), (2, -10)]), vec![]);
        let t2 = t1 + Duration::from_millis(300);
        assert_eq!(talk(&mut d, t2, 1_500, &[(1, -90), (2, -10)]), vec![2]);
    }

    #[test]
    fn silence_chooses_nobody_and_a_forgotten_speaker_can_be_replaced() {
        let t0 = Instant::now();
        let mut d = SpeakerDetector::default();
        assert_eq!(talk(&mut d, t0, 1_000, &[(1, -100), (2, -127)]), vec![]);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(talk(&mut d, t1, 1_000, &[(1, -15)]), vec![1]);
        d.forget(1);
        let t2 = t1 + Duration::from_secs(1);
        assert_eq!(talk(&mut d, t2, 1_000, &[(2, -30)]), vec![2]);
        d.forget(2);
        assert!(d.is_empty());
    }
}
