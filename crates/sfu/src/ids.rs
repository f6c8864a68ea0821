//! A cheap hasher for the SFU's maps keyed by ids.
//!
//! Peer and room ids are chosen by the server and incoming SSRCs enter a
//! map only once str0m knows them as a negotiated stream, so nobody
//! outside can fill these maps with colliding keys, and SipHash's
//! resistance to that is not worth its cost: the maps are looked up
//! several times for every forwarded packet.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by an integer id.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Multiplies the key by an odd constant (Fibonacci hashing); the high
/// bits hashbrown uses are then well mixed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_ids_spread_over_the_high_bits() {
        let hash = |n: u64| {
            let mut h = IdHasher::default();
            h.write_u64(n);
            h.finish() >> 57
        };
        let buckets: std::collections::HashSet<u64> = (1..=64).map(hash).collect();
        assert!(
            buckets.len() > 32,
            "{} distinct top-7-bit values",
            buckets.len()
        );
        let mut map: IdMap<u64, u64> = IdMap::default();
        map.insert(7, 1);
        assert_eq!(map.get(&7), Some(&1));
    }
}
