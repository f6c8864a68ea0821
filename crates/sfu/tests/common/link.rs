//! An in-memory network with loss, latency and jitter, on virtual time.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// splitmix64: a seeded generator, so a failing run fails again.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one direction of the network does to packets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impairment {
    pub latency: Duration,
    /// Extra delay, uniform in [0, jitter): packets may be reordered.
    pub jitter: Duration,
    /// Probability that a packet is dropped.
    pub loss: f64,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    at: Instant,
    order: u64,
    source: SocketAddr,
    destination: SocketAddr,
    bytes: Vec<u8>,
}

/// One direction of the network.
#[derive(Debug)]
pub struct Link {
    pub impairment: Impairment,
    rng: Rng,
    queue: BinaryHeap<Reverse<Queued>>,
    order: u64,
    pub sent: u64,
    pub dropped: u64,
    /// Per destination: a bottleneck of this many bits per second, and
    /// when it has sent what is queued for it.
    bottlenecks: HashMap<SocketAddr, (u64, Instant)>,
}

/// IPv4 and UDP headers, counted against a bottleneck.
const UDP_IP_OVERHEAD: u64 = 28;
/// A bottleneck drops what would wait longer than this (a router's queue).
const MAX_QUEUE_DELAY: Duration = Duration::from_millis(250);

impl Link {
    pub fn new(impairment: Impairment, seed: u64) -> Self {
        Self {
            impairment,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            order: 0,
            sent: 0,
            dropped: 0,
            bottlenecks: HashMap::new(),
        }
    }

    pub fn send(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: Vec<u8>,
    ) {
        self.sent += 1;
        if self.rng.unit() < self.impairment.loss {
            self.dropped += 1;
            return;
        }
        let mut at = now;
        if let Some((bps, free_at)) = self.bottlenecks.get_mut(&destination) {
            let start = (*free_at).max(now);
            if start.saturating_duration_since(now) > MAX_QUEUE_DELAY {
                self.dropped += 1;
                return;
            }
            let bits = (bytes.len() as u64 + UDP_IP_OVERHEAD) * 8;
            *free_at = start + Duration::from_secs_f64(bits as f64 / *bps as f64);
            at = *free_at;
        }
        let jitter = self.impairment.jitter.mul_f64(self.rng.unit());
        self.order += 1;
        self.queue.push(Reverse(Queued {
            at: at + self.impairment.latency + jitter,
            order: self.order,
            source,
            destination,
            bytes,
        }));
    }

    /// Limits what reaches `destination` to `bps` bits per second.
    pub fn limit(&mut self, destination: SocketAddr, bps: u64, now: Instant) {
        self.bottlenecks.insert(destination, (bps, now));
    }

    pub fn next_at(&self) -> Option<Instant> {
        self.queue.peek().map(|q| q.0.at)
    }

    /// The next packet due by `now`: (source, destination, bytes).
    pub fn pop_due(&mut self, now: Instant) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
        if self.next_at()? > now {
            return None;
        }
        let q = self.queue.pop()?.0;
        Some((q.source, q.destination, q.bytes))
    }
}
