//! Load tool: forwarding throughput and added latency of the sans-IO SFU
//! for a 10-participant meeting (`cargo bench -p confab-sfu --bench load`).
//!
//! 1. `LOAD_ROOMS` (default 4) meetings of ten str0m clients join on
//!    virtual time (full ICE and DTLS-SRTP), each client publishing Opus-like audio (50 packets/s) and three
//!    VP8 simulcast layers (30 fps; 1, 2 and 5 packets of 900 bytes per
//!    frame), each publisher on its own phase of those periods, as
//!    independent cameras are (`LOAD_ALIGNED=1`: all at the same instant,
//!    the worst case for bursts). In each meeting everyone shows the first participant large
//!    (top layer) and the others as thumbnails (low layer); the first
//!    shows the second large. Publishers send only the layers the SFU asks
//!    for (`SfuEvent::LayersWanted`), as `confab-bot` and the browser guest
//!    do: the top layer of the first two, the low layer of all
//!    (`LOAD_ALL_LAYERS=1`: every layer regardless, which the SFU must
//!    then receive and drop).
//! 2. After a warm-up, the datagrams the clients send the SFU are
//!    *captured* instead of delivered (STUN still flows, so ICE stays up):
//!    two stretches of the meeting, each replayable once (SRTP refuses
//!    replays).
//! 3. The first stretch is fed to the SFU as fast as it can take it, on
//!    the meetings' timeline (the SFU also wakes at each of its timeouts,
//!    as a driver would, with the driver's timer resolution:
//!    `LOAD_TIMER_US`, default 1000 as tokio's): CPU time per forwarded packet, so forwarded
//!    packets/s per core.
//! 4. The second is fed on the wall clock at the meetings' own pace (the
//!    number of meetings sets the load: four are about half of one core
//!    here); each forwarded RTP datagram out is stamped against the due
//!    time of the datagram it forwards (matched per subscriber in order:
//!    `Sfu::forwarded_to`), so the latency includes queueing behind
//!    earlier datagrams and pacing, as the server's driver would see.
//!    (Compressing time instead would multiply each subscriber's bitrate
//!    past its bandwidth estimate, and the pacer would queue.) It also
//!    counts the stalls the machine inflicts on the thread while it
//!    spins idle, so a tail can be told from the SFU's own queueing.
//!
//! Only the SFU runs during the replays, on one thread; its clock is the
//! wall clock. Environment: `LOAD_ROOMS`, `LOAD_SECONDS` (length of each
//! stretch, default 4), `LOAD_SKIP_PACED=1` (throughput only, for
//! callgrind), `LOAD_ALIGNED=1`, `LOAD_ALL_LAYERS=1`, `LOAD_TIMER_US`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Captured, SFU_ADDR, World, is_rtp};
use confab_sfu::{Sfu, SfuConfig, SfuOutput};

const PARTICIPANTS: u64 = 10;
const WARM_UP: Duration = Duration::from_secs(3);

/// `rooms` meetings of [`PARTICIPANTS`], warmed up.
fn meetings(rooms: u64, stagger: bool, all_layers: bool) -> World {
    let mut world = World::lossless();
    world.stagger = stagger;
    world.follow_wanted = !all_layers;
    // The replays carry no feedback from subscribers, so their bandwidth
    // estimates cannot follow; start them high, so what is measured is
    // forwarding and not a send queue.
    world.sfu = Sfu::new(SfuConfig {
        candidates: vec![SFU_ADDR],
        initial_bitrate: 100_000_000,
    });
    for room in 0..rooms {
        let ids: Vec<u64> = (1..=PARTICIPANTS).map(|i| room * 100 + i).collect();
        for &id in &ids {
            world
                .join_full_publisher(id, room + 1, PARTICIPANTS as usize - 1)
                .record = false;
        }
        world.connect_all();
        world.show_first_large(&ids);
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
    /// Wall time inside the SFU.
    busy: Duration,
    /// Times the SFU was polled at a new instant (driver wake-ups).
    wakes: u64,
    /// CPU time of this thread over the replay (spinning included when
    /// paced), which descheduling on a shared machine does not inflate.
    cpu: Option<Duration>,
    wall: Duration,
    /// Per forwarded RTP datagram out: from its incoming datagram's due
    /// time (queueing behind earlier datagrams and pacing included).
    latencies: Vec<Duration>,
    /// Per subscriber address: due times of what was written to it and
    /// has not left yet, oldest first.
    waiting: HashMap<SocketAddr, VecDeque<Instant>>,
    /// Per client: packets written to it so far (`Sfu::forwarded_to`).
    written: HashMap<u64, u64>,
    /// Per batch (paced): wall time from taking the batch to the SFU
    /// naming its next timeout, i.e. to the last datagram it let out: the
    /// processing latency, without the pacer's spreading of bursts (its
    /// tail includes this thread being descheduled on a shared machine).
    batch_service: Vec<Duration>,
    /// The driver's timer resolution: wake-ups at the SFU's timeouts are
    /// rounded up to it (tokio's timer wheel has 1 ms).
    timer: Duration,
    /// Paced: gaps of at least [`STALL`] between two turns of the idle
    /// spin, where nothing ran on this thread but the machine did not
    /// run it either (a VM's host took the CPU); each delays whatever
    /// fell due in it, which the latencies then include.
    stalls: Vec<Duration>,
}

/// A gap in the idle spin this long is the machine's, not the SFU's: one
/// turn of the loop takes well under a microsecond.
const STALL: Duration = Duration::from_micros(100);

/// `t` rounded up to the next multiple of `step` after `origin`, as a
/// timer wheel fires.
fn timer_fires(t: Instant, origin: Instant, step: Duration) -> Instant {
    let since = t.saturating_duration_since(origin).as_nanos();
    let step_ns = step.as_nanos().max(1);
    let ticks = since.div_ceil(step_ns);
    origin + Duration::from_nanos((ticks * step_ns) as u64)
}

/// Datagrams fed before the SFU is polled, as the server's driver does
/// (`RECV_BATCH` in crates/server/src/media.rs).
const BATCH: usize = 64;

/// Feeds `packets` to the SFU like the server's driver: every datagram
/// due (up to [`BATCH`]), then poll until the SFU names a timeout.
///
/// Paced (`Some(speed)`): datagrams fall due at `speed` times their
/// captured pace on the wall clock, which is also the SFU's clock, and
/// each outgoing RTP datagram's latency runs from the due time of the
/// first datagram of its batch. As fast as possible (`None`): the SFU's
/// clock follows the captured timeline, so the work done does not depend
/// on how fast this machine runs it (and instruction counts repeat).
#[inline(never)]
fn replay_into_sfu(
    world: &mut World,
    packets: &[Captured],
    speed: Option<f64>,
    timer: Duration,
) -> Replay {
    let mut r = Replay {
        ingress: packets.len(),
        timer,
        latencies: Vec::with_capacity(packets.len() * 4),
        ..Replay::default()
    };
    let Some(first) = packets.first() else {
        return r;
    };
    let forwarded_before = world.sfu.forwarded();
    let cpu_before = thread_cpu();
    let start = Instant::now();
    // The SFU's clock runs on from where the virtual world left it.
    let base = world.now;
    let media_time = |p: &Captured| base + (p.at - first.at);
    let sfu_now = |real: Instant| base + real.saturating_duration_since(start);
    let due_at = |p: &Captured, k: f64| start + (p.at - first.at).div_f64(k);
    let mut next = 0;
    // When the SFU asked to be polled (wall clock, paced replays), and the
    // due time of the batch its pending output belongs to.
    let mut wake: Option<(Instant, Instant)> = None;
    // The same on the SFU's clock, for replays on the meeting's timeline.
    let mut sfu_wake = base;
    while next < packets.len() {
        let head = &packets[next];
        let due = speed.map_or_else(Instant::now, |k| due_at(head, k));
        let mut turn = Instant::now();
        while turn < due {
            // A driver wakes at the SFU's timeout too (pacing, timers).
            let mut polled = false;
            if let Some((_, batch_due)) = wake.filter(|(at, _)| *at <= Instant::now()) {
                let began = Instant::now();
                wake = poll_sfu(world, &mut r, batch_due, sfu_now, start, base);
                r.busy += began.elapsed();
                polled = true;
            }
            std::hint::spin_loop();
            let last = turn;
            turn = Instant::now();
            if !polled && turn - last >= STALL {
                r.stalls.push(turn - last);
            }
        }
        let began = Instant::now();
        // What has arrived by now (paced), or at the same instant of the
        // meeting (as fast as possible), up to a batch.
        let now = speed.map_or_else(|| media_time(head), |_| sfu_now(began));
        if speed.is_none() {
            // As a driver would, wake at every SFU timeout before the next
            // datagram (str0m's pacer sends one packet per timeout).
            sfu_wake = poll_until(world, &mut r, sfu_wake, now);
        }
        let arrived = |p: &Captured| match speed {
            Some(k) => due_at(p, k) <= Instant::now(),
            None => p.at == head.at,
        };
        let batch = packets[next..]
            .iter()
            .take(BATCH)
            .take_while(|p| arrived(p))
            .count()
            .max(1);
        // The bench's own bookkeeping, kept out of the SFU's times.
        let mut bookkeeping = Duration::ZERO;
        for p in &packets[next..next + batch] {
            world
                .sfu
                .handle_receive(now, p.source, p.destination, &p.bytes);
            if let Some(k) = speed {
                let noting = Instant::now();
                note_writes(world, &mut r, due_at(p, k));
                bookkeeping += noting.elapsed();
            }
        }
        next += batch;
        if speed.is_some() {
            wake = poll_sfu(world, &mut r, due, sfu_now, start, base);
            r.batch_service
                .push(began.elapsed().saturating_sub(bookkeeping));
        } else {
            sfu_wake = poll_until(world, &mut r, now, now);
        }
        r.busy += began.elapsed().saturating_sub(bookkeeping);
    }
    r.wall = start.elapsed();
    r.cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    world.now = match speed {
        Some(_) => sfu_now(Instant::now()),
        None => media_time(&packets[packets.len() - 1]),
    };
    r.forwarded = world.sfu.forwarded() - forwarded_before;
    r
}

/// Polls the SFU on its own clock at `from` and at every timeout it names
/// up to `until`, counting RTP datagrams out; returns its next timeout.
fn poll_until(world: &mut World, r: &mut Replay, from: Instant, until: Instant) -> Instant {
    let mut at = from;
    // Bounded: a timeout at the same instant twice moves time on by 1 µs.
    for _ in 0..100_000 {
        r.wakes += 1;
        let next = loop {
            match world.sfu.poll(at) {
                SfuOutput::Transmit { bytes, .. } if is_rtp(&bytes) => r.egress_rtp += 1,
                SfuOutput::Timeout(next) => break next,
                _ => {}
            }
        };
        let next = timer_fires(next, from, r.timer);
        if next > until {
            return next;
        }
        at = next.max(at + Duration::from_micros(1));
    }
    at
}

/// Queues, per subscriber, the due time of the datagram just fed once for
/// each packet the SFU wrote to it: its RTP datagrams out are matched to
/// them in order.
fn note_writes(world: &World, r: &mut Replay, due: Instant) {
    for c in &world.clients {
        let total = world.sfu.forwarded_to(c.id).unwrap_or(0);
        let seen = r.written.entry(c.id).or_insert(total);
        let new = total.saturating_sub(*seen);
        *seen = total;
        if new > 0 {
            let queue = r.waiting.entry(c.addr).or_default();
            queue.extend(std::iter::repeat_n(due, new as usize));
        }
    }
}

/// Polls the SFU on the wall clock until it names a timeout, stamping
/// each RTP datagram out against the due time of the datagram it
/// forwards (see [`note_writes`]); returns when to poll again (wall
/// clock) and `due`, the batch's.
fn poll_sfu(
    world: &mut World,
    r: &mut Replay,
    due: Instant,
    sfu_now: impl Fn(Instant) -> Instant,
    start: Instant,
    base: Instant,
) -> Option<(Instant, Instant)> {
    loop {
        let real = Instant::now();
        match world.sfu.poll(sfu_now(real)) {
            SfuOutput::Transmit {
                bytes, destination, ..
            } if is_rtp(&bytes) => {
                r.egress_rtp += 1;
                // Retransmissions and padding have no entry: not counted.
                if let Some(arrived) = r
                    .waiting
                    .get_mut(&destination)
                    .and_then(VecDeque::pop_front)
                {
                    r.latencies
                        .push(Instant::now().saturating_duration_since(arrived));
                }
            }
            SfuOutput::Timeout(at) => {
                // SFU time back to the wall clock.
                let wall = start + at.saturating_duration_since(base);
                return Some((timer_fires(wall, start, r.timer), due));
            }
            _ => {}
        }
    }
}

/// Runs the SFU on its own clock for `duration`; returns the RTP
/// datagrams it sent.
fn flush(world: &mut World, duration: Duration) -> u64 {
    let mut r = Replay {
        timer: Duration::from_micros(1),
        ..Replay::default()
    };
    let end = world.now + duration;
    poll_until(world, &mut r, world.now, end);
    world.now = end;
    r.egress_rtp
}

/// This thread's time on a CPU so far (Linux schedstat, nanoseconds).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len().saturating_sub(1)) as f64 * p) as usize)
        .copied()
        .unwrap_or_default()
}

fn print(label: &str, r: &mut Replay) {
    r.latencies.sort_unstable();
    r.batch_service.sort_unstable();
    let per_packet = r.busy.as_secs_f64() / r.forwarded.max(1) as f64;
    let cpu = r.cpu.unwrap_or_default().as_secs_f64();
    let cpu_per_packet = cpu / r.forwarded.max(1) as f64;
    println!(
        "{label}: {} datagrams in, {} wake-ups, {} media packets forwarded ({} RTP out) in {:.3} s wall, \
         {:.3} s wall in the SFU: {:.2} µs per forwarded packet = {:.0} forwarded packets/s; \
         thread CPU {:.3} s: {:.2} µs per forwarded packet = {:.0} forwarded packets/s per core; \
         forwarding rate {:.0}/s; latency p50 {:?} p99 {:?} max {:?}",
        r.ingress,
        r.wakes,
        r.forwarded,
        r.egress_rtp,
        r.wall.as_secs_f64(),
        r.busy.as_secs_f64(),
        per_packet * 1e6,
        1.0 / per_packet,
        cpu,
        cpu_per_packet * 1e6,
        1.0 / cpu_per_packet,
        r.forwarded as f64 / r.wall.as_secs_f64(),
        percentile(&r.latencies, 0.5),
        percentile(&r.latencies, 0.99),
        percentile(&r.latencies, 1.0),
    );
    if !r.batch_service.is_empty() {
        let longest = r.stalls.iter().max().copied().unwrap_or_default();
        let total: Duration = r.stalls.iter().sum();
        println!(
            "{label}: the machine stalled this thread {} times while it waited idle \
             (gaps of {STALL:?} or more, {:.1} ms in all, longest {longest:?})",
            r.stalls.len(),
            total.as_secs_f64() * 1e3,
        );
        println!(
            "{label}: {} batches; processing time from a batch in to its last datagram out: \
             p50 {:?} p99 {:?} max {:?}",
            r.batch_service.len(),
            percentile(&r.batch_service, 0.5),
            percentile(&r.batch_service, 0.99),
            percentile(&r.batch_service, 1.0),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test
    // --benches`) only checks that this builds and starts.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let env = |name: &str, default: u64, max: u64| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
            .clamp(1, max)
    };
    let stretch = Duration::from_secs(env("LOAD_SECONDS", 4, 30));
    let rooms = env("LOAD_ROOMS", 4, 20);
    let timer = Duration::from_micros(env("LOAD_TIMER_US", 1000, 100_000));
    let flag = |name: &str| std::env::var(name).is_ok_and(|v| v == "1");
    let aligned = flag("LOAD_ALIGNED");
    let all_layers = flag("LOAD_ALL_LAYERS");
    let mut world = meetings(rooms, !aligned, all_layers);
    let estimates: Vec<String> = world
        .clients
        .iter()
        .map(|c| {
            world
                .sfu
                .bandwidth(c.id)
                .map_or("-".into(), |b| format!("{:.1}", b as f64 / 1e6))
        })
        .collect();
    println!(
        "{rooms} meetings of {PARTICIPANTS}, {}, {}, driver timer {timer:?}; \
         bandwidth estimates after warm-up, Mbit/s: {}",
        if aligned {
            "every publisher at once"
        } else {
            "publishers staggered"
        },
        if all_layers {
            "every layer sent"
        } else {
            "layers as asked"
        },
        estimates.join(" ")
    );
    world.capture = Some(Vec::new());
    world.run(stretch);
    let first = world.capture.replace(Vec::new()).unwrap_or_default();
    world.run(stretch);
    let second = world.capture.take().unwrap_or_default();

    let mut max = replay_into_sfu(&mut world, &first, None, timer);
    print("max load", &mut max);
    let held = flush(&mut world, Duration::from_secs(1));
    println!("sent in the 1 s after the max-load replay: {held} RTP datagrams");
    if std::env::var("LOAD_SKIP_PACED").is_ok_and(|v| v == "1") {
        return;
    }
    // Replayed at the meetings' own pace: the load is the meetings'.
    let natural = max.forwarded as f64 / stretch.as_secs_f64();
    let spent = max.cpu.unwrap_or(max.busy).min(max.busy);
    let capacity = max.forwarded as f64 / spent.as_secs_f64();
    println!(
        "at their own pace the meetings forward {natural:.0} packets/s: {:.0}% of the measured capacity",
        100.0 * natural / capacity
    );
    let mut paced = replay_into_sfu(&mut world, &second, Some(1.0), timer);
    print("paced", &mut paced);
}
