//! Encode → decode of the stamped test pattern through all three simulcast
//! layers: quality at the top layer's bitrate, and the stamp in every
//! decoded frame of every layer.

use confab_media::VideoFrame;
use confab_media::synth::video::{TestPattern, read_stamp};
use confab_media::video::{
    Layer, SimulcastConfig, SimulcastEncoder, SimulcastOutput, Vp8Decoder, psnr_y,
};

#[test]
fn every_layer_decodes_with_readable_stamps_and_the_top_layer_keeps_35_db() {
    const FRAMES: u32 = 60;
    let config = SimulcastConfig::new(1280, 720);
    let mut encoder = SimulcastEncoder::new(config).unwrap();
    let mut decoders = Layer::ALL.map(|_| Vp8Decoder::new().unwrap());
    let mut pattern = TestPattern::new(1280, 720, 30).unwrap();
    let mut frame = VideoFrame::black(1280, 720, Default::default()).unwrap();
    let mut out = SimulcastOutput::default();
    let mut decoded = [0u32; 3];
    let mut psnrs = Vec::new();
    for _ in 0..FRAMES {
        let stamp = pattern.render_next(&mut frame);
        encoder.encode(&frame, &mut out).unwrap();
        for (layer, packet) in out.iter() {
            let picture = decoders[layer as usize]
                .decode(packet)
                .unwrap()
                .expect("VP8 frames are all visible");
            assert_eq!(
                (picture.width(), picture.height()),
                config.layer_size(layer)
            );
            assert_eq!(
                read_stamp(&picture),
                Some(stamp),
                "{layer:?} frame {}",
                stamp.frame_number
            );
            if layer == Layer::Full {
                psnrs.push(psnr_y(&frame, &picture).unwrap());
            }
            decoded[layer as usize] += 1;
        }
    }
    // Rate control may drop a frame now and then; a layer that lost more
    // than one in ten would be broken.
    assert!(decoded[0] >= FRAMES * 9 / 10, "{decoded:?}");
    assert!(decoded[1] >= FRAMES * 9 / 10, "{decoded:?}");
    assert!(
        decoded[2] >= FRAMES / 2 * 9 / 10 && decoded[2] <= FRAMES / 2,
        "{decoded:?}"
    );
    let mean = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
    let min = psnrs.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "720p at 1.1 Mbps: Y PSNR mean {mean:.2} dB, min {min:.2} dB over {} frames",
        psnrs.len()
    );
    assert!(min >= 35.0, "min PSNR {min:.2} dB");
}
