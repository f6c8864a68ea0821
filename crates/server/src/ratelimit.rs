//! Per-address attempt limits (sans-IO: time is an argument, so tests run
//! on invented time).
//!
//! A sliding window: an address may make `max` attempts in any `window`.
//! Used for join floods and wrong passcodes on signalling, and for admin
//! logins, where an attempt counts from the moment it starts and is
//! [forgiven](RateLimiter::forget) only when it succeeds, so a burst of
//! parallel guesses cannot slip past the limit while their checks run.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, quiet ones are dropped at the next
/// attempt, so a spray from many addresses cannot grow memory without bound.
const PRUNE_ABOVE: usize = 10_000;

/// How many attempts an address may make in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

#[derive(Debug)]
pub struct RateLimiter {
    limit: Limit,
    hits: HashMap<IpAddr, VecDeque<Instant>>,
}

impl RateLimiter {
    pub fn new(limit: Limit) -> Self {
        Self {
            limit: Limit {
                max: limit.max.max(1),
                ..limit
            },
            hits: HashMap::new(),
        }
    }

    /// Counts an attempt. `Err(wait)` says how long until the next attempt
    /// would be allowed; a refused attempt is not counted.
    pub fn attempt(&mut self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.hits.len() > PRUNE_ABOVE {
            self.prune(now);
        }
        self.check(addr, now)?;
        self.hits.entry(addr).or_default().push_back(now);
        Ok(())
    }

    /// Whether an attempt would be allowed now, without counting one.
    pub fn check(&mut self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let window = self.limit.window;
        let Some(times) = self.hits.get_mut(&addr) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|&t| now.duration_since(t) >= window)
        {
            times.pop_front();
        }
        if times.is_empty() {
            self.hits.remove(&addr);
            return Ok(());
        }
        if times.len() as u32 >= self.limit.max {
            let oldest = *times.front().expect("non-empty");
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Counts an attempt that already happened (a wrong passcode) without
    /// refusing it.
    pub fn record(&mut self, addr: IpAddr, now: Instant) {
        self.hits.entry(addr).or_default().push_back(now);
    }

    /// Forgives `addr`'s attempts (a login that succeeded).
    pub fn forget(&mut self, addr: IpAddr) {
        self.hits.remove(&addr);
    }

    /// Forgets addresses with no attempt inside the window, so the map
    /// does not grow with every address ever seen.
    pub fn prune(&mut self, now: Instant) {
        let window = self.limit.window;
        self.hits.retain(|_, times| {
            times
                .back()
                .is_some_and(|&t| now.duration_since(t) < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn an_address_over_its_limit_waits_for_the_window_and_others_are_unaffected() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(Limit {
            max: 3,
            window: Duration::from_secs(10),
        });
        for i in 0..3 {
            rl.attempt(A, t0 + Duration::from_secs(i)).unwrap();
        }
        let wait = rl.attempt(A, t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        rl.attempt(B, t0 + Duration::from_secs(4)).unwrap();
        rl.attempt(A, t0 + Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn forgiving_an_address_clears_its_attempts() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(Limit {
            max: 2,
            window: Duration::from_secs(300),
        });
        rl.attempt(A, t0).unwrap();
        rl.attempt(A, t0).unwrap();
        assert!(rl.attempt(A, t0).is_err());
        rl.forget(A);
        assert!(rl.attempt(A, t0).is_ok());
    }

    #[test]
    fn many_addresses_do_not_grow_memory_forever() {
        let t0 = Instant::now();
        let window = Duration::from_secs(300);
        let mut rl = RateLimiter::new(Limit { max: 5, window });
        for i in 0..=PRUNE_ABOVE as u32 {
            rl.attempt(IpAddr::from(i.to_be_bytes()), t0).unwrap();
        }
        rl.attempt(A, t0 + window).unwrap();
        assert_eq!(rl.hits.len(), 1);
    }

    #[test]
    fn pruning_forgets_quiet_addresses() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(Limit {
            max: 1,
            window: Duration::from_secs(1),
        });
        rl.record(A, t0);
        rl.prune(t0 + Duration::from_secs(2));
        assert!(rl.hits.is_empty());
    }
}
