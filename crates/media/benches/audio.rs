//! The audio hot paths, one frame each: Opus encode and decode (20 ms),
//! echo cancellation with NS and AGC (10 ms: far frame plus near frame),
//! the jitter buffer (one packet in, one tick out) and the mixer (9 streams,
//! 20 ms). Figures are in docs/benchmarks.md.
//!
//! Run: `cargo bench -p confab-media --bench audio`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use confab_media::audio::jitter::JitterBuffer;
use confab_media::audio::mixer::{MixInput, Mixer};
use confab_media::audio::opus::{
    Encoded, EncoderConfig, MAX_PACKET_BYTES, OPUS_FRAME_SAMPLES, OpusDecoder, OpusEncoder,
};
use confab_media::audio::processing::{AudioProcessor, ProcessingConfig};
use confab_media::synth::audio::{AudioSource, Babble};
use criterion::{Criterion, criterion_group, criterion_main};

fn speech(len: usize, seed: u64) -> Vec<f32> {
    let mut s = vec![0.0; len];
    Babble::new(0.5, seed).fill(&mut s);
    s
}

fn opus(c: &mut Criterion) {
    // A second of speech, cycled, so the encoder sees real variation.
    let pcm = speech(50 * OPUS_FRAME_SAMPLES, 1);
    let mut enc = OpusEncoder::new(EncoderConfig::default()).expect("encoder");
    let mut buf = [0u8; MAX_PACKET_BYTES];
    let mut k = 0;
    c.bench_function("opus_encode_20ms", |b| {
        b.iter(|| {
            k = (k + 1) % 50;
            let frame = &pcm[k * OPUS_FRAME_SAMPLES..(k + 1) * OPUS_FRAME_SAMPLES];
            black_box(enc.encode(frame, &mut buf).expect("encode"))
        })
    });

    let mut enc = OpusEncoder::new(EncoderConfig::default()).expect("encoder");
    let packets: Vec<Vec<u8>> = pcm
        .chunks(OPUS_FRAME_SAMPLES)
        .filter_map(|frame| match enc.encode(frame, &mut buf).expect("encode") {
            Encoded::Packet(n) => Some(buf[..n].to_vec()),
            Encoded::Silence => None,
        })
        .collect();
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut out = vec![0.0f32; OPUS_FRAME_SAMPLES];
    let mut k = 0;
    c.bench_function("opus_decode_20ms", |b| {
        b.iter(|| {
            k = (k + 1) % packets.len();
            black_box(dec.decode(&packets[k], &mut out).expect("decode"))
        })
    });
}

fn processing(c: &mut Criterion) {
    let far = speech(100 * 480, 2);
    let near = speech(100 * 480, 3);
    let mut ap = AudioProcessor::new(ProcessingConfig::default());
    let mut frame = vec![0.0f32; 480];
    let mut k = 0;
    c.bench_function("aec_ns_agc_10ms", |b| {
        b.iter(|| {
            k = (k + 1) % 100;
            let range = k * 480..(k + 1) * 480;
            ap.process_far(&far[range.clone()]).expect("far");
            frame.copy_from_slice(&near[range]);
            ap.process_near(&mut frame).expect("near");
            black_box(&frame);
        })
    });
}

fn jitter(c: &mut Criterion) {
    let mut jb = JitterBuffer::new();
    let t0 = Instant::now();
    let payload = [7u8; 80];
    let mut n: u64 = 0;
    c.bench_function("jitter_push_and_tick_per_packet", |b| {
        b.iter(|| {
            let at = t0 + Duration::from_millis(n * 20);
            jb.push(n as u16, (n * 960) as u32, &payload, at);
            black_box(jb.tick(at + Duration::from_millis(5)));
            n += 1;
        })
    });
}

fn mixer(c: &mut Criterion) {
    let streams: Vec<Vec<f32>> = (0..9).map(|s| speech(OPUS_FRAME_SAMPLES, s)).collect();
    let mut mixer = Mixer::new();
    let mut out = vec![0.0f32; OPUS_FRAME_SAMPLES];
    c.bench_function("mix_9_streams_20ms", |b| {
        b.iter(|| {
            let inputs: [MixInput<'_>; 9] = std::array::from_fn(|i| MixInput {
                samples: &streams[i],
                gain: 0.8,
            });
            black_box(mixer.mix(&inputs, &mut out))
        })
    });
}

criterion_group!(benches, opus, processing, jitter, mixer);
criterion_main!(benches);
