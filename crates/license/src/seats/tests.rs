//! Seat pool behaviour on virtual time: one real `Instant` as the origin,
//! everything else is offsets, so timeouts are exact and tests take no time.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::*;

type Pool = SeatPool<u32, &'static str>;

const TIMEOUT: Duration = DEFAULT_HEARTBEAT_TIMEOUT;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn pool(limit: u32) -> (Pool, Instant) {
    (SeatPool::new(limit, TIMEOUT), Instant::now())
}

#[test]
fn ten_are_admitted_and_the_eleventh_is_refused() {
    let (mut pool, t0) = pool(10);
    for c in 0..10 {
        pool.admit(c, "standup", t0).unwrap();
    }
    let err = pool.admit(10, "standup", t0).unwrap_err();
    assert_eq!(err, SeatError::Full { limit: 10 });
    assert_eq!(
        err.to_string(),
        "All 10 lines are in use. Try again when someone leaves."
    );
    assert_eq!(pool.in_use(), 10);
    assert_eq!(pool.refused(), 1);
}

#[test]
fn five_meetings_of_two_fill_ten_lines() {
    let (mut pool, t0) = pool(10);
    let meetings = ["a", "b", "c", "d", "e"];
    for (i, meeting) in meetings.iter().enumerate() {
        let c = i as u32 * 2;
        pool.admit(c, meeting, t0).unwrap();
        pool.admit(c + 1, meeting, t0).unwrap();
    }
    assert_eq!(pool.in_use(), 10);
    assert!(pool.per_meeting().values().all(|&n| n == 2));
    assert_eq!(pool.per_meeting().len(), 5);
    assert!(matches!(
        pool.admit(99, "f", t0),
        Err(SeatError::Full { .. })
    ));
}

#[test]
fn same_connection_is_never_seated_twice() {
    let (mut pool, t0) = pool(10);
    pool.admit(1, "a", t0).unwrap();
    assert_eq!(pool.admit(1, "b", t0), Err(SeatError::AlreadySeated));
    assert_eq!(pool.in_use(), 1);
    assert_eq!(pool.refused(), 0, "not a limit refusal");
}

#[test]
fn silent_connection_is_freed_after_the_heartbeat_timeout_but_not_before() {
    let (mut pool, t0) = pool(10);
    pool.admit(1, "a", t0).unwrap();
    assert_eq!(pool.next_timeout(), Some(t0 + TIMEOUT));
    let just_before = t0 + TIMEOUT - Duration::from_millis(1);
    assert!(pool.poll_expired(just_before).is_empty());
    assert_eq!(pool.in_use(), 1);
    let freed = pool.poll_expired(t0 + TIMEOUT);
    assert_eq!(freed.len(), 1);
    assert_eq!(freed[0].connection, 1);
    assert_eq!(freed[0].meeting, "a");
    assert_eq!(freed[0].reason, FreeReason::HeartbeatTimeout);
    assert_eq!(pool.in_use(), 0);
    assert_eq!(pool.next_timeout(), None);
    assert!(
        !pool.heartbeat(&1, t0 + TIMEOUT),
        "the freed connection is told"
    );
}

#[test]
fn heartbeats_keep_a_seat() {
    let (mut pool, t0) = pool(10);
    pool.admit(1, "a", t0).unwrap();
    for s in (5..=60).step_by(5) {
        assert!(pool.heartbeat(&1, t0 + secs(s)));
        assert!(pool.poll_expired(t0 + secs(s)).is_empty());
    }
    assert_eq!(pool.next_timeout(), Some(t0 + secs(60) + TIMEOUT));
    assert_eq!(pool.in_use(), 1);
}

#[test]
fn resume_within_the_window_keeps_one_seat() {
    let (mut pool, t0) = pool(2);
    let admitted = pool.admit(1, "a", t0).unwrap();
    assert!(pool.disconnected(&1, t0 + secs(1)));
    assert_eq!(pool.in_use(), 1, "the seat is held");
    assert_eq!(pool.seat_of(&1), None);
    let token: ResumeToken = admitted.resume_token.to_string().parse().unwrap();
    let resumed = pool.resume(&token, 2, t0 + secs(10)).unwrap();
    assert_eq!(resumed.seat, admitted.seat);
    assert_eq!(resumed.replaced, None);
    assert_eq!(pool.in_use(), 1);
    assert_eq!(pool.seat_of(&2), Some(admitted.seat));
    assert!(
        pool.poll_expired(t0 + secs(20)).is_empty(),
        "deadline moved"
    );
    // The spent token does not work again; the new one does.
    assert_eq!(
        pool.resume(&token, 3, t0 + secs(21)),
        Err(SeatError::UnknownSession)
    );
    pool.resume(&resumed.resume_token, 3, t0 + secs(21))
        .unwrap();
    assert_eq!(pool.in_use(), 1);
}

#[test]
fn resume_after_the_window_fails_and_the_seat_is_freed() {
    let (mut pool, t0) = pool(2);
    let admitted = pool.admit(1, "a", t0).unwrap();
    pool.disconnected(&1, t0 + secs(1));
    let late = t0 + secs(1) + TIMEOUT;
    assert_eq!(
        pool.resume(&admitted.resume_token, 2, late),
        Err(SeatError::ResumeWindowPassed { window: TIMEOUT })
    );
    let freed = pool.poll_expired(late);
    assert_eq!(freed.len(), 1);
    assert_eq!(freed[0].reason, FreeReason::ResumeWindowPassed);
    assert_eq!(pool.in_use(), 0);
    assert_eq!(
        pool.resume(&admitted.resume_token, 2, late),
        Err(SeatError::UnknownSession)
    );
}

#[test]
fn resume_before_the_old_connection_is_noticed_replaces_it() {
    let (mut pool, t0) = pool(2);
    let admitted = pool.admit(1, "a", t0).unwrap();
    let resumed = pool
        .resume(&admitted.resume_token, 2, t0 + secs(3))
        .unwrap();
    assert_eq!(resumed.replaced, Some(1));
    assert_eq!(pool.in_use(), 1);
    assert!(
        !pool.heartbeat(&1, t0 + secs(4)),
        "old connection has no seat"
    );
    assert!(pool.heartbeat(&2, t0 + secs(4)));
    assert!(pool.release(&1).is_none());
}

#[test]
fn forged_or_garbled_tokens_resume_nothing() {
    let (mut pool, t0) = pool(2);
    let admitted = pool.admit(1, "a", t0).unwrap();
    pool.disconnected(&1, t0);
    let mut forged = admitted.resume_token.clone();
    forged.secret[0] ^= 1;
    assert_eq!(pool.resume(&forged, 2, t0), Err(SeatError::UnknownSession));
    for text in ["", "abc", "!!!", &"A".repeat(60)] {
        assert_eq!(text.parse::<ResumeToken>(), Err(SeatError::UnknownSession));
    }
    assert_eq!(admitted.resume_token.to_string().len(), 54);
    let shown = format!("{:?}", admitted.resume_token);
    assert!(!shown.contains("secret"), "{shown}");
}

#[test]
fn resume_onto_a_connection_that_holds_another_seat_is_refused() {
    let (mut pool, t0) = pool(3);
    let first = pool.admit(1, "a", t0).unwrap();
    pool.admit(2, "a", t0).unwrap();
    pool.disconnected(&1, t0);
    assert_eq!(
        pool.resume(&first.resume_token, 2, t0),
        Err(SeatError::AlreadySeated)
    );
    assert_eq!(pool.in_use(), 2);
}

#[test]
fn smaller_limit_drops_nobody_and_refuses_until_usage_is_below_it() {
    let (mut pool, t0) = pool(10);
    for c in 0..8 {
        pool.admit(c, "a", t0).unwrap();
    }
    pool.set_limit(5);
    assert_eq!(pool.in_use(), 8, "nobody dropped");
    assert!(pool.poll_expired(t0).is_empty());
    for c in 0..3 {
        assert!(pool.release(&c).is_some());
        assert_eq!(
            pool.admit(100 + c, "a", t0),
            Err(SeatError::Full { limit: 5 })
        );
    }
    assert_eq!(pool.in_use(), 5);
    pool.release(&3).unwrap();
    pool.admit(200, "a", t0).expect("below the limit again");
    assert_eq!(pool.in_use(), 5);
    assert_eq!(pool.refused(), 3);
}

#[test]
fn end_meeting_frees_all_its_seats_and_no_others() {
    let (mut pool, t0) = pool(10);
    for c in 0..4 {
        pool.admit(c, "board", t0).unwrap();
    }
    pool.admit(10, "standup", t0).unwrap();
    pool.disconnected(&3, t0);
    let freed = pool.end_meeting(&"board");
    let connections: BTreeSet<u32> = freed.iter().map(|f| f.connection).collect();
    assert_eq!(connections, BTreeSet::from([0, 1, 2, 3]), "held seats too");
    assert!(freed.iter().all(|f| f.reason == FreeReason::MeetingEnded));
    assert_eq!(pool.in_use(), 1);
    assert_eq!(pool.per_meeting(), BTreeMap::from([("standup", 1)]));
    assert!(pool.end_meeting(&"board").is_empty());
}

#[test]
fn release_of_an_unknown_connection_is_harmless() {
    let (mut pool, t0) = pool(2);
    pool.admit(1, "a", t0).unwrap();
    assert!(pool.release(&42).is_none());
    assert!(!pool.disconnected(&42, t0));
    assert!(!pool.heartbeat(&42, t0));
    assert_eq!(pool.in_use(), 1);
    let freed = pool.release(&1).unwrap();
    assert_eq!(freed.reason, FreeReason::Released);
    assert!(pool.release(&1).is_none(), "second release is harmless too");
    assert!(pool.release_seat(freed.seat).is_none());
}

#[test]
fn host_can_remove_someone_whose_connection_dropped() {
    let (mut pool, t0) = pool(2);
    let admitted = pool.admit(1, "a", t0).unwrap();
    pool.disconnected(&1, t0);
    assert!(pool.release(&1).is_none(), "no open connection to release");
    let freed = pool.release_seat(admitted.seat).unwrap();
    assert_eq!(freed.connection, 1);
    assert_eq!(pool.in_use(), 0);
}

#[test]
fn hundred_concurrent_joins_against_ten_lines_admit_exactly_ten() {
    let pool = Arc::new(Mutex::new(Pool::new(10, TIMEOUT)));
    let now = Instant::now();
    let results: Vec<Result<Admitted, SeatError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|c| {
                let pool = Arc::clone(&pool);
                scope.spawn(move || pool.lock().unwrap().admit(c, "all-hands", now))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let admitted = results.iter().filter(|r| r.is_ok()).count();
    let full = results
        .iter()
        .filter(|r| matches!(r, Err(SeatError::Full { limit: 10 })))
        .count();
    assert_eq!((admitted, full), (10, 90));
    let pool = pool.lock().unwrap();
    assert_eq!(pool.in_use(), 10);
    assert_eq!(pool.refused(), 90);
}

/// xorshift64*: a seeded generator, so a failing sequence replays exactly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the test believes is seated: every seat admitted and not yet
/// reported freed, with its meeting and latest token; and what happened,
/// so the test can show that the sequence exercised every path.
#[derive(Default)]
struct Model {
    seats: BTreeMap<SeatId, (&'static str, ResumeToken)>,
    resumed: u32,
    freed: Vec<FreeReason>,
}

impl Model {
    fn forget(&mut self, freed: &[FreedSeat<u32, &'static str>]) {
        for f in freed {
            let (meeting, _) = self
                .seats
                .remove(&f.seat)
                .expect("freed once, and only seated");
            assert_eq!(meeting, f.meeting);
            self.freed.push(f.reason);
        }
    }

    fn per_meeting(&self) -> BTreeMap<&'static str, u32> {
        let mut counts = BTreeMap::new();
        for (meeting, _) in self.seats.values() {
            *counts.entry(*meeting).or_insert(0) += 1;
        }
        counts
    }
}

fn random_step(pool: &mut Pool, model: &mut Model, rng: &mut Rng, now: Instant) {
    const MEETINGS: [&str; 4] = ["a", "b", "c", "d"];
    let connection = rng.below(40) as u32;
    match rng.below(9) {
        0..=2 => {
            let meeting = MEETINGS[rng.below(4) as usize];
            if let Ok(a) = pool.admit(connection, meeting, now) {
                model.seats.insert(a.seat, (meeting, a.resume_token));
            }
        }
        3 => {
            pool.heartbeat(&connection, now);
        }
        4 => {
            pool.disconnected(&connection, now);
        }
        5 => {
            let pick = rng.below(model.seats.len().max(1) as u64) as usize;
            if let Some((&seat, (_, token))) = model.seats.iter().nth(pick)
                && let Ok(r) = pool.resume(token, connection, now)
            {
                assert_eq!(r.seat, seat);
                model.seats.get_mut(&seat).unwrap().1 = r.resume_token;
                model.resumed += 1;
            }
        }
        6 => model.forget(pool.release(&connection).as_slice()),
        7 => model.forget(&pool.end_meeting(&MEETINGS[rng.below(4) as usize])),
        _ => pool.set_limit(rng.below(12) as u32),
    }
}

#[test]
fn random_sequences_never_overfill_and_account_for_every_seat() {
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let (mut pool, mut now) = pool(6);
        let mut model = Model::default();
        for _ in 0..2_000 {
            let before = pool.in_use();
            now += Duration::from_millis(rng.below(3_000));
            model.forget(&pool.poll_expired(now));
            random_step(&mut pool, &mut model, &mut rng, now);
            let after = pool.in_use();
            assert!(
                after <= before.max(pool.limit()),
                "seed {seed}: {before} -> {after}"
            );
            assert_eq!(after as usize, model.seats.len(), "seed {seed}");
            assert_eq!(pool.per_meeting(), model.per_meeting(), "seed {seed}");
            if let Some(next) = pool.next_timeout() {
                assert!(next > now, "seed {seed}: a due seat was left unpolled");
            }
        }
        model.forget(&pool.poll_expired(now + TIMEOUT));
        assert_eq!(pool.in_use(), 0, "seed {seed}: everything times out");
        assert!(model.seats.is_empty());
        assert!(pool.refused() > 0 && model.resumed > 0, "seed {seed}");
        for reason in [
            FreeReason::Released,
            FreeReason::MeetingEnded,
            FreeReason::HeartbeatTimeout,
            FreeReason::ResumeWindowPassed,
        ] {
            assert!(model.freed.contains(&reason), "seed {seed}: {reason:?}");
        }
    }
}
