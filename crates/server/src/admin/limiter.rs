//! Failed-login counting per client address.
//!
//! Sans-IO: every method takes the current instant, so tests run on
//! invented time. An attempt counts as a failure from the moment it starts
//! ([`LoginLimiter::begin`]) and is forgiven only when it succeeds, so a
//! burst of parallel guesses cannot slip past the limit while their
//! password checks are still running.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, those with no recent failure are
/// dropped, so a spray from many addresses cannot grow memory without bound.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug)]
pub(crate) struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
}

impl LoginLimiter {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            failures: HashMap::new(),
        }
    }

    /// Starts an attempt from `ip`. `Err(wait)` when the address already has
    /// `max_failures` failures inside the window: it may try again after
    /// `wait`.
    pub(crate) fn begin(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.failures.len() > PRUNE_ABOVE {
            self.prune(now);
        }
        let window = self.window;
        let recent = self.failures.entry(ip).or_default();
        while recent
            .front()
            .is_some_and(|&t| now.duration_since(t) >= window)
        {
            recent.pop_front();
        }
        if recent.len() >= self.max_failures as usize {
            let oldest = recent[0];
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        recent.push_back(now);
        Ok(())
    }

    /// The attempt succeeded: `ip`'s failures are forgiven.
    pub(crate) fn succeeded(&mut self, ip: IpAddr) {
        self.failures.remove(&ip);
    }

    fn prune(&mut self, now: Instant) {
        let window = self.window;
        self.failures.retain(|_, times| {
            times
                .back()
                .is_some_and(|&t| now.duration_since(t) < window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(300);

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn the_sixth_failure_in_five_minutes_is_refused_with_the_wait() {
        let mut limiter = LoginLimiter::new(5, WINDOW);
        let t0 = Instant::now();
        for i in 0..5 {
            limiter.begin(ip(1), t0 + Duration::from_secs(i)).unwrap();
        }
        let wait = limiter
            .begin(ip(1), t0 + Duration::from_secs(100))
            .unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(200),
            "until the oldest failure ages out"
        );
        assert!(
            limiter.begin(ip(2), t0).is_ok(),
            "other addresses are unaffected"
        );
        assert!(
            limiter.begin(ip(1), t0 + WINDOW).is_ok(),
            "the window slides"
        );
    }

    #[test]
    fn success_forgives_earlier_failures() {
        let mut limiter = LoginLimiter::new(2, WINDOW);
        let t0 = Instant::now();
        limiter.begin(ip(1), t0).unwrap();
        limiter.begin(ip(1), t0).unwrap();
        limiter.succeeded(ip(1));
        assert!(limiter.begin(ip(1), t0).is_ok());
    }

    #[test]
    fn many_addresses_do_not_grow_memory_forever() {
        let mut limiter = LoginLimiter::new(5, WINDOW);
        let t0 = Instant::now();
        for i in 0..=PRUNE_ABOVE as u32 {
            limiter.begin(IpAddr::from(i.to_be_bytes()), t0).unwrap();
        }
        limiter.begin(ip(1), t0 + WINDOW).unwrap();
        assert_eq!(limiter.failures.len(), 1);
    }
}
