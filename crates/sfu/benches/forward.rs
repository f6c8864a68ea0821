//! Forwarding cost of the SFU core for a 10-participant room: everyone
//! publishes audio and one video layer, everyone receives everyone.
//!
//! The room runs on virtual time with in-process str0m clients; only the
//! wall time spent inside `Sfu::handle_receive` and `Sfu::poll` is
//! counted, so client encryption does not pollute the figure.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{Measure, World};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const PARTICIPANTS: u64 = 10;

fn room() -> World {
    let mut world = World::lossless();
    for id in 1..=PARTICIPANTS {
        world.join(id, 1, true, PARTICIPANTS as usize - 1);
        // One video layer each, as the load describes.
        world.client_mut(id).sending = vec![true, false, false];
    }
    world.connect_all();
    world.run(Duration::from_secs(2));
    world
}

/// One simulated second, measured: (forwarded packets, SFU wall time, per-datagram times).
fn measure_second(world: &mut World) -> Measure {
    world.measure = Some(Measure::default());
    world.run(Duration::from_secs(1));
    world.measure.take().expect("measuring")
}

fn report(world: &mut World) {
    let mut m = Measure::default();
    for _ in 0..5 {
        let s = measure_second(world);
        m.busy += s.busy;
        m.forwarded += s.forwarded;
        m.per_datagram.extend(s.per_datagram);
    }
    m.per_datagram.sort_unstable();
    let pct = |p: f64| m.per_datagram[((m.per_datagram.len() - 1) as f64 * p) as usize];
    let per_packet = m.busy / m.forwarded.max(1) as u32;
    println!(
        "sfu forward: {} packets in {:?} of SFU time: {:.0} packets/s per core, {:?} per packet; \
         per ingress datagram (receive + poll to timeout, fan-out {}): p50 {:?} p99 {:?} max {:?}",
        m.forwarded,
        m.busy,
        m.forwarded as f64 / m.busy.as_secs_f64(),
        per_packet,
        PARTICIPANTS - 1,
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
}

fn forward(c: &mut Criterion) {
    let mut world = room();
    report(&mut world);
    let forwarded_per_100ms = measure_second(&mut world).forwarded / 10;
    let mut group = c.benchmark_group("sfu");
    group.throughput(Throughput::Elements(forwarded_per_100ms));
    group.sample_size(20);
    group.bench_function("forward_10_participants_100ms", |b| {
        b.iter_custom(|iters| {
            let mut busy = Duration::ZERO;
            for _ in 0..iters {
                world.measure = Some(Measure::default());
                world.run(Duration::from_millis(100));
                busy += black_box(world.measure.take().expect("measuring")).busy;
            }
            busy
        })
    });
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
