//! Video cost per frame: 720p VP8 encode (with a cpu-used sweep), scaling
//! to the lower layers, the whole three-layer send, and 360p decode.
//!
//! Clips are rendered before timing. The busy clip (noise texture under the
//! bars) stands in for a harsh camera scene; the plain pattern is the easy
//! end. Results and their share of a core are in docs/benchmarks.md.

use std::hint::black_box;
use std::time::Duration;

use confab_media::VideoFrame;
use confab_media::synth::video::TestPattern;
use confab_media::video::{
    EncodedFrame, EncoderConfig, Layer, Scaler, SimulcastConfig, SimulcastEncoder, SimulcastOutput,
    Vp8Decoder, Vp8Encoder,
};
use criterion::{Criterion, criterion_group, criterion_main};

const CLIP: u32 = 90;

fn clip(width: u32, height: u32, busy: bool) -> Vec<VideoFrame> {
    let mut pattern = TestPattern::new(width, height, 30).unwrap();
    if busy {
        pattern = pattern.busy();
    }
    (0..CLIP).map(|_| pattern.next_frame()).collect()
}

/// Feeds the clip round and round with rising timestamps, as a camera would.
struct Feed {
    frames: Vec<VideoFrame>,
    next: usize,
    elapsed: Duration,
}

impl Feed {
    fn new(frames: Vec<VideoFrame>) -> Self {
        Self {
            frames,
            next: 0,
            elapsed: Duration::ZERO,
        }
    }

    fn next(&mut self) -> &VideoFrame {
        let i = self.next % self.frames.len();
        self.next += 1;
        self.elapsed += Duration::from_secs(1) / 30;
        self.frames[i].timestamp = self.elapsed;
        &self.frames[i]
    }
}

fn encode_720p(c: &mut Criterion) {
    let busy = clip(1280, 720, true);
    let plain = clip(1280, 720, false);
    let mut group = c.benchmark_group("encode_720p_1100kbps");
    for cpu_used in [-6, -8, -10, -12, -16] {
        let mut config = EncoderConfig::new(1280, 720, 1100, 30);
        config.cpu_used = cpu_used;
        let mut encoder = Vp8Encoder::new(config).unwrap();
        let mut feed = Feed::new(busy.clone());
        let mut out = EncodedFrame::default();
        let (mut frames, mut sent) = (0u64, 0u64);
        group.bench_function(format!("busy_cpu_used_{cpu_used}"), |b| {
            b.iter(|| {
                frames += 1;
                sent += u64::from(encoder.encode(feed.next(), &mut out).unwrap());
            })
        });
        // A dropped frame costs little, so a sweep is only fair when rate
        // control encoded (nearly) every frame.
        eprintln!("cpu_used {cpu_used}: encoded {sent} of {frames} frames");
    }
    let mut encoder = Vp8Encoder::new(EncoderConfig::new(1280, 720, 1100, 30)).unwrap();
    let mut feed = Feed::new(plain);
    let mut out = EncodedFrame::default();
    group.bench_function("plain_default", |b| {
        b.iter(|| encoder.encode(feed.next(), &mut out).unwrap())
    });
    group.finish();
}

fn scale(c: &mut Criterion) {
    let full = clip(1280, 720, true).swap_remove(0);
    let mut half = VideoFrame::black(640, 360, Duration::ZERO).unwrap();
    let mut quarter = VideoFrame::black(320, 180, Duration::ZERO).unwrap();
    let mut to_half = Scaler::new((1280, 720), (640, 360)).unwrap();
    let mut to_quarter = Scaler::new((640, 360), (320, 180)).unwrap();
    let mut group = c.benchmark_group("scale");
    group.bench_function("720p_to_360p", |b| {
        b.iter(|| to_half.scale(black_box(&full), &mut half).unwrap())
    });
    group.bench_function("360p_to_180p", |b| {
        b.iter(|| to_quarter.scale(black_box(&half), &mut quarter).unwrap())
    });
    // Baseline in the same run: copying one 720p frame.
    let mut copy = full.clone();
    group.bench_function("baseline_copy_720p", |b| {
        b.iter(|| {
            copy.planes_mut()
                .0
                .copy_from_slice(black_box(full.planes().0))
        })
    });
    group.finish();
}

fn simulcast_send(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulcast_send");
    for (name, busy) in [("busy", true), ("plain", false)] {
        let mut encoder = SimulcastEncoder::new(SimulcastConfig::new(1280, 720)).unwrap();
        let mut feed = Feed::new(clip(1280, 720, busy));
        let mut out = SimulcastOutput::default();
        group.bench_function(format!("3_layers_{name}"), |b| {
            b.iter(|| encoder.encode(feed.next(), &mut out).unwrap())
        });
    }
    let mut encoder = SimulcastEncoder::new(SimulcastConfig::new(1280, 720)).unwrap();
    encoder.pause(Layer::Full);
    let mut feed = Feed::new(clip(1280, 720, true));
    let mut out = SimulcastOutput::default();
    group.bench_function("busy_full_layer_paused", |b| {
        b.iter(|| encoder.encode(feed.next(), &mut out).unwrap())
    });
    group.finish();
}

fn decode_360p(c: &mut Criterion) {
    // 150 frames at 350 kbps, keyframe first: decoding wraps round to it.
    let mut encoder = Vp8Encoder::new(EncoderConfig::new(640, 360, 350, 30)).unwrap();
    let mut feed = Feed::new(clip(640, 360, true));
    let mut packets = Vec::new();
    for _ in 0..150 {
        let mut out = EncodedFrame::default();
        if encoder.encode(feed.next(), &mut out).unwrap() {
            packets.push(out);
        }
    }
    let mut decoder = Vp8Decoder::new().unwrap();
    let mut i = 0;
    c.bench_function("decode_360p_350kbps_busy", |b| {
        b.iter(|| {
            let frame = decoder.decode(&packets[i % packets.len()]).unwrap();
            i += 1;
            frame
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = encode_720p, scale, simulcast_send, decode_360p
}
criterion_main!(benches);
