//! Audio hot paths, per frame: Opus encode and decode (20 ms).
//! Run: `cargo bench -p confab-media --bench audio`.

use std::hint::black_box;
use std::time::Duration;

use confab_media::audio::opus::{
    EncoderConfig, MAX_PACKET_BYTES, OPUS_FRAME_SAMPLES, OpusDecoder, OpusEncoder,
};
use confab_media::synth::audio::{AudioSource, Babble};
use criterion::{Criterion, criterion_group, criterion_main};

fn opus(c: &mut Criterion) {
    let mut pcm = vec![0.0f32; OPUS_FRAME_SAMPLES];
    Babble::new(0.5, 1).fill(&mut pcm);
    let mut enc = OpusEncoder::new(EncoderConfig::default()).expect("encoder");
    let mut buf = [0u8; MAX_PACKET_BYTES];
    c.bench_function("opus_encode_20ms", |b| {
        b.iter(|| black_box(enc.encode(black_box(&pcm), &mut buf).expect("encode")))
    });
    let _ = Duration::ZERO;
    let mut dec = OpusDecoder::new().expect("decoder");
    let mut out = vec![0.0f32; OPUS_FRAME_SAMPLES];
    c.bench_function("opus_decode_20ms", |b| {
        b.iter(|| black_box(dec.decode(black_box(&buf[..60]), &mut out)))
    });
}

criterion_group!(benches, opus);
criterion_main!(benches);
