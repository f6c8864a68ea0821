//! Load tool: forwarding throughput and added latency of the sans-IO SFU
//! for a 10-participant meeting (`cargo bench -p confab-sfu --bench load`).
//!
//! 1. Ten str0m clients join one room on virtual time (full ICE and
//!    DTLS-SRTP), each publishing Opus-like audio (50 packets/s) and three
//!    VP8 simulcast layers (30 fps; 1, 2 and 5 packets of 900 bytes per
//!    frame). Everyone shows participant 1 large (top layer) and the
//!    others as thumbnails (low layer); participant 1 shows 2 large.
//! 2. After a warm-up, the datagrams the clients send the SFU are
//!    *captured* instead of delivered (STUN still flows, so ICE stays up):
//!    two stretches of the meeting, each replayable once (SRTP refuses
//!    replays).
//! 3. The first stretch is fed to the SFU as fast as it can take it: SFU
//!    time per forwarded packet, so forwarded packets/s per core.
//! 4. The second is fed on its own timeline, compressed so that the SFU
//!    forwards half its measured maximum; each outgoing RTP packet is
//!    stamped against its incoming datagram's due time, so the latency
//!    includes queueing behind earlier datagrams, as a driver would see.
//!
//! Only the SFU runs during the replays, on one thread; its clock is the
//! wall clock. Environment: `LOAD_SECONDS` (length of each stretch,
//! default 4), `LOAD_SKIP_PACED=1` (throughput only, for callgrind).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Captured, World, is_rtp};
use confab_sfu::{SfuOutput, View};

const PARTICIPANTS: u64 = 10;
const WARM_UP: Duration = Duration::from_secs(3);
const SPEAKER: u64 = 1;
const BIG: View = View::Tile {
    width: 1280,
    height: 720,
};
const THUMBNAIL: View = View::Tile {
    width: 320,
    height: 180,
};

fn meeting() -> World {
    let mut world = World::lossless();
    for id in 1..=PARTICIPANTS {
        world.join(id, 1, true, PARTICIPANTS as usize - 1);
        let client = world.client_mut(id);
        client.packets_per_frame = [1, 2, 5];
        client.payload_bytes = 900;
        client.record = false;
    }
    world.connect_all();
    for subscriber in 1..=PARTICIPANTS {
        let big = if subscriber == SPEAKER { 2 } else { SPEAKER };
        for publisher in (1..=PARTICIPANTS).filter(|p| *p != subscriber) {
            let view = if publisher == big { BIG } else { THUMBNAIL };
            world
                .sfu
                .set_view(subscriber, publisher, view)
                .expect("known peers");
        }
    }
    world.drive_sfu();
    world.run(WARM_UP);
    world
}

/// What one replay measured.
#[derive(Debug, Default)]
struct Replay {
    ingress: usize,
    /// Media packets written to subscribers (`Sfu::forwarded`).
    forwarded: u64,
    /// RTP datagrams out (media, RTX, padding).
    egress_rtp: u64,
    /// Time inside the SFU.
    busy: Duration,
    wall: Duration,
    /// Per outgoing RTP datagram: from its incoming datagram's due time.
    latencies: Vec<Duration>,
}

/// Feeds `packets` to the SFU, at `speed` times their captured pace, or
/// as fast as it takes them (`None`).
#[inline(never)]
fn replay_into_sfu(world: &mut World, packets: &[Captured], speed: Option<f64>) -> Replay {
    let mut r = Replay {
        ingress: packets.len(),
        latencies: Vec::with_capacity(packets.len() * 4),
        ..Replay::default()
    };
    let Some(first) = packets.first() else {
        return r;
    };
    let forwarded_before = world.sfu.forwarded();
    let start = Instant::now();
    // The SFU's clock runs on from where the virtual world left it.
    let base = world.now;
    let sfu_now = |real: Instant| base + real.saturating_duration_since(start);
    for p in packets {
        let due = match speed {
            Some(k) => start + (p.at - first.at).div_f64(k),
            None => Instant::now(),
        };
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let began = Instant::now();
        world
            .sfu
            .handle_receive(sfu_now(began), p.source, p.destination, &p.bytes);
        loop {
            let now = Instant::now();
            match world.sfu.poll(sfu_now(now)) {
                SfuOutput::Transmit { bytes, .. } if is_rtp(&bytes) => {
                    r.egress_rtp += 1;
                    r.latencies.push(now.saturating_duration_since(due));
                }
                SfuOutput::Timeout(_) => break,
                _ => {}
            }
        }
        r.busy += began.elapsed();
    }
    r.wall = start.elapsed();
    world.now = sfu_now(Instant::now());
    r.forwarded = world.sfu.forwarded() - forwarded_before;
    r
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len().saturating_sub(1)) as f64 * p) as usize)
        .copied()
        .unwrap_or_default()
}

fn print(label: &str, r: &mut Replay) {
    r.latencies.sort_unstable();
    let per_packet = r.busy.as_secs_f64() / r.forwarded.max(1) as f64;
    println!(
        "{label}: {} datagrams in, {} media packets forwarded ({} RTP out) in {:.3} s wall, \
         {:.3} s in the SFU: {:.2} µs per forwarded packet = {:.0} forwarded packets/s per core; \
         forwarding rate {:.0}/s; latency p50 {:?} p99 {:?} max {:?}",
        r.ingress,
        r.forwarded,
        r.egress_rtp,
        r.wall.as_secs_f64(),
        r.busy.as_secs_f64(),
        per_packet * 1e6,
        1.0 / per_packet,
        r.forwarded as f64 / r.wall.as_secs_f64(),
        percentile(&r.latencies, 0.5),
        percentile(&r.latencies, 0.99),
        percentile(&r.latencies, 1.0),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test
    // --benches`) only checks that this builds and starts.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
        .clamp(1, 30);
    let stretch = Duration::from_secs(seconds);
    let mut world = meeting();
    world.capture = Some(Vec::new());
    world.run(stretch);
    let first = world.capture.replace(Vec::new()).unwrap_or_default();
    world.run(stretch);
    let second = world.capture.take().unwrap_or_default();

    let mut max = replay_into_sfu(&mut world, &first, None);
    print("max load", &mut max);
    if std::env::var("LOAD_SKIP_PACED").is_ok_and(|v| v == "1") {
        return;
    }
    // The meeting's own forwarding rate, and the speed-up to half the max.
    let natural = max.forwarded as f64 / stretch.as_secs_f64();
    let capacity = max.forwarded as f64 / max.busy.as_secs_f64();
    let speed = (0.5 * capacity / natural).max(1.0);
    println!("the meeting forwards {natural:.0} packets/s; replaying at {speed:.1}x for half load");
    let mut half = replay_into_sfu(&mut world, &second, Some(speed));
    print("half load", &mut half);
}
