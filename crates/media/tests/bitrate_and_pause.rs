//! Rate control follows runtime bitrate changes, each simulcast layer
//! lands near its target, and paused layers send nothing.

use std::time::Duration;

use confab_media::VideoFrame;
use confab_media::synth::video::TestPattern;
use confab_media::video::{
    EncodedFrame, EncoderConfig, Layer, SimulcastConfig, SimulcastEncoder, SimulcastOutput,
    Vp8Encoder,
};

/// Kilobits per second of `bytes` sent over `seconds`.
fn kbps(bytes: usize, seconds: f64) -> f64 {
    bytes as f64 * 8.0 / 1000.0 / seconds
}

/// Encodes two seconds (60 frames) of the busy pattern; returns the bytes.
fn two_seconds(
    encoder: &mut Vp8Encoder,
    pattern: &mut TestPattern,
    frame: &mut VideoFrame,
) -> usize {
    let mut out = EncodedFrame::default();
    let mut bytes = 0;
    for _ in 0..60 {
        pattern.render_next(frame);
        if encoder.encode(frame, &mut out).unwrap() {
            bytes += out.data.len();
        }
    }
    bytes
}

#[test]
fn a_bitrate_change_at_runtime_changes_the_output_rate() {
    // The busy clip has more detail than 400 kbps can carry at 360p, so
    // the rate is set by rate control, not by the content.
    let mut pattern = TestPattern::new(640, 360, 30).unwrap().busy();
    let mut frame = VideoFrame::black(640, 360, Duration::ZERO).unwrap();
    let mut encoder = Vp8Encoder::new(EncoderConfig::new(640, 360, 400, 30)).unwrap();
    two_seconds(&mut encoder, &mut pattern, &mut frame); // settle past the first keyframe
    let before = kbps(two_seconds(&mut encoder, &mut pattern, &mut frame), 2.0);
    encoder.set_bitrate(200).unwrap();
    // libvpx's rate buffer (one second) takes a second or two to drain.
    two_seconds(&mut encoder, &mut pattern, &mut frame);
    let after = kbps(two_seconds(&mut encoder, &mut pattern, &mut frame), 2.0);
    println!("360p busy clip: {before:.0} kbps at a 400 kbps target, {after:.0} kbps at 200");
    assert!((300.0..=480.0).contains(&before), "{before}");
    assert!((150.0..=250.0).contains(&after), "{after}");
    assert_eq!(encoder.config().bitrate_kbps, 200);
}

#[test]
fn each_simulcast_layer_lands_near_its_target_and_a_paused_layer_sends_nothing() {
    let config = SimulcastConfig::new(1280, 720);
    let mut encoder = SimulcastEncoder::new(config).unwrap();
    let mut pattern = TestPattern::new(1280, 720, 30).unwrap().busy();
    let mut frame = VideoFrame::black(1280, 720, Duration::ZERO).unwrap();
    let mut out = SimulcastOutput::default();
    let mut run = |encoder: &mut SimulcastEncoder, frames: u32| {
        let mut bytes = [0usize; 3];
        let mut keyframes = [0u32; 3];
        for _ in 0..frames {
            pattern.render_next(&mut frame);
            encoder.encode(&frame, &mut out).unwrap();
            for (layer, packet) in out.iter() {
                bytes[layer as usize] += packet.data.len();
                keyframes[layer as usize] += u32::from(packet.keyframe);
            }
        }
        (bytes, keyframes)
    };
    run(&mut encoder, 30);
    let (bytes, _) = run(&mut encoder, 60);
    for layer in Layer::ALL {
        let target = f64::from(config.layers[layer as usize].bitrate_kbps);
        let got = kbps(bytes[layer as usize], 2.0);
        println!("{layer:?}: {got:.0} kbps for a {target:.0} kbps target");
        assert!(
            got > target * 0.75 && got < target * 1.25,
            "{layer:?}: {got}"
        );
    }

    encoder.pause(Layer::Full);
    encoder.pause(Layer::Quarter);
    assert!(encoder.is_paused(Layer::Full));
    let (bytes, _) = run(&mut encoder, 30);
    assert_eq!((bytes[0], bytes[2]), (0, 0));
    assert!(bytes[1] > 0);

    encoder.resume(Layer::Full);
    let (bytes, keyframes) = run(&mut encoder, 1);
    assert!(bytes[0] > 0 && keyframes[0] == 1, "resumed with a keyframe");
    assert_eq!(bytes[2], 0, "the quarter layer is still paused");
}
