//! Y4M and WAV files as fake-device sources, written by the tests.

use std::io::Write;
use std::time::Duration;

use confab_devices::source::{AudioSource, VideoSource, WavSource, Y4mSource};
use confab_devices::{DeviceError, VideoFrame};

/// Writes a 4×2 Y4M file whose frame `i` has luma `10 * (i + 1)`.
fn write_y4m(path: &std::path::Path, frames: u8) {
    let mut file = std::fs::File::create(path).unwrap();
    writeln!(file, "YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg").unwrap();
    for i in 0..frames {
        file.write_all(b"FRAME\n").unwrap();
        file.write_all(&[10 * (i + 1); 8]).unwrap();
        file.write_all(&[100, 100, 200, 200]).unwrap();
    }
}

fn luma(frame: &VideoFrame) -> u8 {
    frame.planes().0[0]
}

#[test]
fn y4m_source_plays_frames_in_order_and_loops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.y4m");
    write_y4m(&path, 3);
    let mut source = Y4mSource::open(&path, true).unwrap();
    assert_eq!((source.width(), source.height()), (4, 2));
    assert_eq!(source.frame_rate(), (25, 1));
    let t = |i: u64| Duration::from_millis(40 * i);
    let lumas: Vec<u8> = (0..7).map(|i| luma(&source.frame(i, t(i)))).collect();
    assert_eq!(lumas, [10, 20, 30, 10, 20, 30, 10]);
    let frame = source.frame(7, t(7));
    assert_eq!(frame.timestamp, t(7));
    let (_, u, v) = frame.planes();
    assert_eq!((u, v), (&[100, 100][..], &[200, 200][..]));
}

#[test]
fn y4m_source_without_looping_holds_the_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.y4m");
    write_y4m(&path, 2);
    let mut source = Y4mSource::open(&path, false).unwrap();
    let lumas: Vec<u8> = (0..4)
        .map(|i| luma(&source.frame(i, Duration::ZERO)))
        .collect();
    assert_eq!(lumas, [10, 20, 20, 20]);
}

#[test]
fn y4m_files_that_are_not_420_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.y4m");
    std::fs::write(&path, "YUV4MPEG2 W4 H2 F25:1 C444\n").unwrap();
    let err = Y4mSource::open(&path, false).unwrap_err();
    assert!(
        matches!(&err, DeviceError::File { reason, .. } if reason.contains("4:2:0")),
        "{err}"
    );
    assert!(err.is_user_facing());
    assert!(Y4mSource::open(dir.path().join("missing.y4m"), false).is_err());
}

fn write_wav(
    path: &std::path::Path,
    spec: hound::WavSpec,
    frames: u32,
    f: impl Fn(u32) -> [i16; 2],
) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..frames {
        for s in &f(n)[..usize::from(spec.channels)] {
            w.write_sample(*s).unwrap();
        }
    }
    w.finalize().unwrap();
}

#[test]
fn wav_at_48k_mono_plays_as_is_then_silence_or_loops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_wav(&path, spec, 720, |n| [(n as i16) * 10, 0]);
    let mut once = WavSource::open(&path, false).unwrap();
    assert_eq!(once.duration(), Duration::from_millis(15));
    let mut out = vec![9.0; 480];
    once.fill(&mut out);
    assert_eq!(out[1], 10.0 / 32_768.0);
    once.fill(&mut out);
    assert_eq!(out[0], 4800.0 / 32_768.0);
    assert!(
        out[240..].iter().all(|&s| s == 0.0),
        "silence after the end"
    );

    let mut looping = WavSource::open(&path, true).unwrap();
    let mut two = vec![0.0; 960];
    looping.fill(&mut two);
    assert_eq!(two[720], two[0]);
    assert_eq!(two[721], two[1]);
}

#[test]
fn wav_at_44k1_stereo_becomes_48k_mono() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    // Left a 1 kHz tone, right its negative: the mono mix is silent.
    let tone =
        |n: u32| ((std::f32::consts::TAU * 1000.0 * n as f32 / 44_100.0).sin() * 16_000.0) as i16;
    write_wav(&path, spec, 44_100, |n| [tone(n), -tone(n)]);
    let source = WavSource::open(&path, false).unwrap();
    // One second, give or take the resampler's rounding of the length.
    assert!((47_999..=48_001).contains(&source.samples().len()));
    assert!(source.samples().iter().all(|s| s.abs() < 1e-3));

    // Left only: the mix is half the tone, still at 1 kHz after resampling.
    write_wav(&path, spec, 44_100, |n| [tone(n), 0]);
    let source = WavSource::open(&path, false).unwrap();
    let steady = &source.samples()[2400..45_600];
    let peak = steady.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(
        (peak - 16_000.0 / 32_768.0 / 2.0).abs() < 0.01,
        "peak {peak}"
    );
    let crossings = steady
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    assert!(
        (895..=905).contains(&crossings),
        "{crossings} cycles in 0.9 s"
    );
}
