//! When a scheduled meeting happens, and when it may be live.
//!
//! Times are unix seconds. Weekly meetings repeat every 7 × 24 hours from
//! their first start, in UTC: the same rule the `.ics` invitation states
//! (`DTSTART` in UTC with `RRULE:FREQ=WEEKLY`), so the welcome page and
//! every calendar agree. Where the office's clocks change for daylight
//! saving, the local start time moves by that hour (see docs/decisions.md).

/// Seconds in a week.
pub const WEEK_SECS: i64 = 7 * 24 * 3600;

/// How long before a scheduled start people may already join.
pub const OPENS_EARLY_SECS: i64 = 15 * 60;

/// Default length of a scheduled meeting when none is given.
pub const DEFAULT_DURATION_MINUTES: u32 = 60;

/// The longest meeting: one day.
pub const MAX_DURATION_MINUTES: u32 = 1440;

/// A scheduled meeting's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// First (or only) start, unix seconds.
    pub starts_at: i64,
    /// 1..=1440.
    pub duration_minutes: u32,
    /// Repeats every [`WEEK_SECS`] from `starts_at`.
    pub weekly: bool,
}

/// One occurrence of a scheduled meeting: `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub starts_at: i64,
    pub ends_at: i64,
}

/// Whether a meeting may be live at a given moment.
///
/// Instant meetings are always [`Liveness::Open`]. A scheduled meeting is
/// open from [`OPENS_EARLY_SECS`] before an occurrence starts until that
/// occurrence ends. The signalling side admits joins only while open; people
/// already in a meeting are not removed when the slot ends, because a
/// meeting that runs over is normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Open,
    /// The next occurrence opens at `opens_at` (unix seconds).
    NotYet {
        opens_at: i64,
    },
    /// A one-off meeting that ended at `ended_at` (unix seconds).
    Ended {
        ended_at: i64,
    },
}

impl Liveness {
    pub fn is_open(self) -> bool {
        self == Liveness::Open
    }
}

impl Schedule {
    /// Length of each occurrence in seconds.
    pub fn duration_secs(&self) -> i64 {
        i64::from(self.duration_minutes) * 60
    }

    /// Occurrences that overlap `[from, until)`, earliest first.
    pub fn slots_between(&self, from: i64, until: i64) -> Vec<Slot> {
        let mut slots = Vec::new();
        let mut next = self.first_slot_ending_after(from);
        while let Some(slot) = next.filter(|s| s.starts_at < until) {
            slots.push(slot);
            next = self.weekly.then(|| self.slot(slot.starts_at + WEEK_SECS));
        }
        slots
    }

    /// The occurrence in progress at `t`, or else the next one; `None` when
    /// a one-off meeting is over.
    pub fn first_slot_ending_after(&self, t: i64) -> Option<Slot> {
        let duration = self.duration_secs();
        if !self.weekly {
            let slot = self.slot(self.starts_at);
            return (slot.ends_at > t).then_some(slot);
        }
        // The k-th occurrence ends after t when starts_at + k·W + d > t, so
        // k is one more than floor((t − d − starts_at) / W), and never
        // below the first.
        let k = ((t - duration - self.starts_at).div_euclid(WEEK_SECS) + 1).max(0);
        Some(self.slot(self.starts_at + k * WEEK_SECS))
    }

    /// Whether people may join at `now`.
    pub fn liveness(&self, now: i64) -> Liveness {
        match self.first_slot_ending_after(now) {
            None => Liveness::Ended {
                ended_at: self.starts_at + self.duration_secs(),
            },
            Some(slot) if slot.starts_at - OPENS_EARLY_SECS <= now => Liveness::Open,
            Some(slot) => Liveness::NotYet {
                opens_at: slot.starts_at - OPENS_EARLY_SECS,
            },
        }
    }

    fn slot(&self, starts_at: i64) -> Slot {
        Slot {
            starts_at,
            ends_at: starts_at + self.duration_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;
    // Monday 2026-11-30 09:00 UTC.
    const MONDAY_9: i64 = 1_796_029_200;

    fn weekly(minutes: u32) -> Schedule {
        Schedule {
            starts_at: MONDAY_9,
            duration_minutes: minutes,
            weekly: true,
        }
    }

    #[test]
    fn weekly_meetings_expand_to_every_week_in_the_range() {
        let slots = weekly(30).slots_between(MONDAY_9 - DAY, MONDAY_9 + 3 * WEEK_SECS);
        let starts: Vec<i64> = slots.iter().map(|s| s.starts_at).collect();
        assert_eq!(
            starts,
            [0, 1, 2].map(|k| MONDAY_9 + k * WEEK_SECS).to_vec(),
            "the range ends before the fourth start"
        );
        assert!(slots.iter().all(|s| s.ends_at - s.starts_at == 30 * 60));
    }

    #[test]
    fn an_occurrence_in_progress_at_the_range_start_is_included() {
        let from = MONDAY_9 + 2 * WEEK_SECS + 10 * 60;
        let slots = weekly(30).slots_between(from, from + DAY);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].starts_at, MONDAY_9 + 2 * WEEK_SECS);
    }

    #[test]
    fn an_occurrence_ending_exactly_at_the_range_start_is_not_included() {
        let from = MONDAY_9 + WEEK_SECS + 30 * 60;
        let slots = weekly(30).slots_between(from, from + DAY);
        assert!(slots.is_empty(), "{slots:?}");
    }

    #[test]
    fn a_weekly_series_has_nothing_before_its_first_start() {
        let slots = weekly(60).slots_between(MONDAY_9 - 10 * WEEK_SECS, MONDAY_9);
        assert!(slots.is_empty(), "{slots:?}");
    }

    #[test]
    fn a_one_off_meeting_has_one_slot_only() {
        let once = Schedule {
            weekly: false,
            ..weekly(60)
        };
        let slots = once.slots_between(MONDAY_9 - DAY, MONDAY_9 + 10 * WEEK_SECS);
        assert_eq!(
            slots,
            [Slot {
                starts_at: MONDAY_9,
                ends_at: MONDAY_9 + HOUR
            }]
        );
    }

    #[test]
    fn scheduled_meetings_open_fifteen_minutes_early_until_their_end() {
        let once = Schedule {
            weekly: false,
            ..weekly(60)
        };
        let opens_at = MONDAY_9 - OPENS_EARLY_SECS;
        assert_eq!(once.liveness(opens_at - 1), Liveness::NotYet { opens_at });
        assert_eq!(once.liveness(opens_at), Liveness::Open);
        assert_eq!(once.liveness(MONDAY_9 + HOUR - 1), Liveness::Open);
        assert_eq!(
            once.liveness(MONDAY_9 + HOUR),
            Liveness::Ended {
                ended_at: MONDAY_9 + HOUR
            }
        );
    }

    #[test]
    fn weekly_meetings_reopen_the_next_week() {
        let after_first = MONDAY_9 + 2 * HOUR;
        assert_eq!(
            weekly(60).liveness(after_first),
            Liveness::NotYet {
                opens_at: MONDAY_9 + WEEK_SECS - OPENS_EARLY_SECS
            }
        );
        assert!(weekly(60).liveness(MONDAY_9 + 5 * WEEK_SECS).is_open());
    }
}
