//! A lost frame stops the picture until a keyframe arrives; after the
//! keyframe request the stream is clean again.

use confab_media::VideoFrame;
use confab_media::synth::video::{Stamp, TestPattern, read_stamp};
use confab_media::video::{
    EncodedFrame, EncoderConfig, KeyframeReason, VideoError, Vp8Decoder, Vp8Encoder,
};

fn encoder() -> (Vp8Encoder, TestPattern) {
    let encoder = Vp8Encoder::new(EncoderConfig::new(640, 360, 350, 30)).unwrap();
    (encoder, TestPattern::new(640, 360, 30).unwrap())
}

fn next(encoder: &mut Vp8Encoder, pattern: &mut TestPattern) -> (EncodedFrame, Stamp) {
    let mut frame = VideoFrame::black(640, 360, Default::default()).unwrap();
    let stamp = pattern.render_next(&mut frame);
    let mut out = EncodedFrame::default();
    assert!(encoder.encode(&frame, &mut out).unwrap(), "frame dropped");
    (out, stamp)
}

#[test]
fn a_lost_frame_is_refused_until_the_requested_keyframe_then_frames_are_clean() {
    let (mut encoder, mut pattern) = encoder();
    let mut decoder = Vp8Decoder::new().unwrap();
    for _ in 0..10 {
        let (packet, stamp) = next(&mut encoder, &mut pattern);
        let picture = decoder.decode(&packet).unwrap().unwrap();
        assert_eq!(read_stamp(&picture), Some(stamp));
    }
    let (lost, _) = next(&mut encoder, &mut pattern);
    assert_eq!(lost.picture_id, 10);
    // The request reaches the sender about three frames later.
    for expected_refusal in 0..3 {
        let (packet, _) = next(&mut encoder, &mut pattern);
        let err = decoder.decode(&packet).unwrap_err();
        assert!(
            matches!(
                err,
                VideoError::NeedKeyframe(KeyframeReason::Gap {
                    expected: 10,
                    got: 11
                })
            ) || (expected_refusal > 0 && matches!(err, VideoError::NeedKeyframe(_))),
            "{err}"
        );
        assert!(decoder.needs_keyframe());
    }
    encoder.request_keyframe();
    let (key, stamp) = next(&mut encoder, &mut pattern);
    assert!(key.keyframe);
    let picture = decoder.decode(&key).unwrap().unwrap();
    assert_eq!(read_stamp(&picture), Some(stamp));
    for _ in 0..20 {
        let (packet, stamp) = next(&mut encoder, &mut pattern);
        assert!(!packet.keyframe);
        let picture = decoder.decode(&packet).unwrap().unwrap();
        assert_eq!(read_stamp(&picture), Some(stamp));
    }
}

#[test]
fn without_the_gap_check_libvpx_would_show_a_corrupt_picture() {
    let (mut encoder, mut pattern) = encoder();
    let mut decoder = Vp8Decoder::new().unwrap();
    for _ in 0..10 {
        let (packet, _) = next(&mut encoder, &mut pattern);
        decoder.decode(&packet).unwrap();
    }
    let _lost = next(&mut encoder, &mut pattern);
    let (mut packet, stamp) = next(&mut encoder, &mut pattern);
    // Pretend the sender numbered frames without a gap, as a sender
    // without picture IDs would appear: libvpx decodes against the wrong
    // reference and the stamp no longer reads back.
    packet.picture_id = 10;
    let shown = decoder.decode(&packet);
    match shown {
        Ok(Some(picture)) => assert_ne!(read_stamp(&picture), Some(stamp)),
        Ok(None) => panic!("no picture"),
        Err(err) => assert!(matches!(
            err,
            VideoError::NeedKeyframe(KeyframeReason::Corrupt)
        )),
    }
}

#[test]
fn a_decoder_refuses_a_stream_that_starts_without_a_keyframe() {
    let (mut encoder, mut pattern) = encoder();
    let _first = next(&mut encoder, &mut pattern);
    let (second, _) = next(&mut encoder, &mut pattern);
    let mut decoder = Vp8Decoder::new().unwrap();
    let err = decoder.decode(&second).unwrap_err();
    assert!(
        matches!(err, VideoError::NeedKeyframe(KeyframeReason::NoKeyframeYet)),
        "{err}"
    );
}
