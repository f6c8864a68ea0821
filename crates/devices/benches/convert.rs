//! Capture conversion: a camera's 720p frame to I420, per frame, for the
//! send pipeline's budget (docs/benchmarks.md).

use std::hint::black_box;
use std::time::Duration;

use confab_devices::convert::{mjpeg_to_i420, nv12_to_i420, yuyv_to_i420};
use criterion::{Criterion, criterion_group, criterion_main};

const W: u32 = 1280;
const H: u32 = 720;

/// A smooth gradient with some texture, like a camera picture.
fn rgb_picture() -> Vec<u8> {
    let mut rgb = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            let n = ((x * 7 + y * 13) % 32) as u8;
            rgb.extend_from_slice(&[(x / 5) as u8 ^ n, (y / 3) as u8, ((x + y) / 8) as u8]);
        }
    }
    rgb
}

fn conversions(c: &mut Criterion) {
    let yuyv: Vec<u8> = (0..W * H * 2).map(|i| (i % 251) as u8).collect();
    let nv12: Vec<u8> = (0..W * H * 3 / 2).map(|i| (i % 241) as u8).collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(&rgb_picture(), W, H, image::ExtendedColorType::Rgb8)
        .unwrap();

    let mut group = c.benchmark_group("capture_720p_to_i420");
    group.sample_size(20);
    group.bench_function("yuyv", |b| {
        b.iter(|| yuyv_to_i420(black_box(&yuyv), W, H, Duration::ZERO).unwrap())
    });
    group.bench_function("nv12", |b| {
        b.iter(|| nv12_to_i420(black_box(&nv12), W, H, Duration::ZERO).unwrap())
    });
    group.bench_function("mjpeg", |b| {
        b.iter(|| mjpeg_to_i420(black_box(&jpeg), Duration::ZERO).unwrap())
    });
    group.finish();
}

criterion_group!(benches, conversions);
criterion_main!(benches);
