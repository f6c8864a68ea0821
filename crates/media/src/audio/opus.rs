//! Opus for speech: 48 kHz mono, 20 ms frames, VoIP mode, in-band FEC and
//! DTX, over the `opus` crate (libopus 1.6.1, built from source).
//!
//! Both sides work in caller-owned buffers so the per-frame path does not
//! allocate.

use opus::{Application, Bitrate, Channels};

use crate::frame::SAMPLE_RATE;

/// Samples in one 20 ms Opus frame at 48 kHz.
pub const OPUS_FRAME_SAMPLES: usize = 960;

/// Big enough for any single Opus frame (RFC 6716 §3.2.1 caps a frame at
/// 1275 bytes); use it to size the encoder's output buffer.
pub const MAX_PACKET_BYTES: usize = 1275;

/// An encoder packet this short carries no audio: libopus emits it while
/// DTX holds the stream silent, and it is not worth sending.
const DTX_PACKET_MAX: usize = 2;

/// Why an Opus call failed.
#[derive(Debug, thiserror::Error)]
pub enum OpusError {
    #[error("libopus {function} failed: {description}")]
    Codec {
        function: &'static str,
        description: &'static str,
    },
    #[error("an Opus frame is {expected} samples (20 ms), got {actual}")]
    FrameLength { expected: usize, actual: usize },
    #[error("bitrate {0} bit/s is outside Opus's 6,000–510,000")]
    Bitrate(u32),
}

impl From<opus::Error> for OpusError {
    fn from(e: opus::Error) -> Self {
        Self::Codec {
            function: e.function(),
            description: e.description(),
        }
    }
}

/// Encoder settings; the defaults suit one voice on a meeting link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    pub bitrate_bps: u32,
    /// The loss rate the in-band FEC should protect against, in percent.
    /// libopus only spends bits on FEC when this is above zero.
    pub expected_loss_percent: u8,
    pub fec: bool,
    pub dtx: bool,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            // 32 kbit/s is wideband speech with room for FEC at 10% loss.
            bitrate_bps: 32_000,
            expected_loss_percent: 10,
            fec: true,
            dtx: true,
        }
    }
}

/// What one frame encoded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded {
    /// A packet of this many bytes at the front of the output buffer.
    Packet(usize),
    /// DTX: the input was silence and nothing needs to be sent.
    Silence,
}

/// A 48 kHz mono Opus encoder.
#[derive(Debug)]
pub struct OpusEncoder {
    inner: opus::Encoder,
    config: EncoderConfig,
}

fn check_bitrate(bps: u32) -> Result<i32, OpusError> {
    if (6_000..=510_000).contains(&bps) {
        Ok(bps as i32)
    } else {
        Err(OpusError::Bitrate(bps))
    }
}

fn check_frame(len: usize) -> Result<(), OpusError> {
    if len == OPUS_FRAME_SAMPLES {
        Ok(())
    } else {
        Err(OpusError::FrameLength {
            expected: OPUS_FRAME_SAMPLES,
            actual: len,
        })
    }
}

impl OpusEncoder {
    pub fn new(config: EncoderConfig) -> Result<Self, OpusError> {
        let mut inner = opus::Encoder::new(SAMPLE_RATE, Channels::Mono, Application::Voip)?;
        inner.set_bitrate(Bitrate::Bits(check_bitrate(config.bitrate_bps)?))?;
        inner.set_inband_fec(config.fec)?;
        inner.set_packet_loss_perc(i32::from(config.expected_loss_percent.min(100)))?;
        inner.set_dtx(config.dtx)?;
        // A meeting microphone carries speech: this keeps libopus in its
        // SILK or hybrid modes, the ones that carry in-band FEC, instead
        // of switching to CELT on tonal or noisy input.
        inner.set_signal(opus::Signal::Voice)?;
        Ok(Self { inner, config })
    }

    /// Encodes one 20 ms frame ([`OPUS_FRAME_SAMPLES`] samples) into `out`,
    /// which should hold [`MAX_PACKET_BYTES`].
    pub fn encode(&mut self, pcm: &[f32], out: &mut [u8]) -> Result<Encoded, OpusError> {
        check_frame(pcm.len())?;
        let len = self.inner.encode_float(pcm, out)?;
        Ok(if len <= DTX_PACKET_MAX && self.config.dtx {
            Encoded::Silence
        } else {
            Encoded::Packet(len)
        })
    }

    /// Changes the target bitrate from the next frame on (congestion
    /// control calls this).
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), OpusError> {
        self.inner.set_bitrate(Bitrate::Bits(check_bitrate(bps)?))?;
        self.config.bitrate_bps = bps;
        Ok(())
    }

    /// Tells FEC how much loss to expect (from RTCP receiver reports).
    pub fn set_expected_loss(&mut self, percent: u8) -> Result<(), OpusError> {
        let percent = percent.min(100);
        self.inner.set_packet_loss_perc(i32::from(percent))?;
        self.config.expected_loss_percent = percent;
        Ok(())
    }

    pub fn config(&self) -> EncoderConfig {
        self.config
    }
}

/// A 48 kHz mono Opus decoder with loss concealment and FEC recovery.
#[derive(Debug)]
pub struct OpusDecoder {
    inner: opus::Decoder,
}

impl OpusDecoder {
    pub fn new() -> Result<Self, OpusError> {
        Ok(Self {
            inner: opus::Decoder::new(SAMPLE_RATE, Channels::Mono)?,
        })
    }

    /// Decodes a received packet into `out` (one 20 ms frame) and returns
    /// the samples written.
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, OpusError> {
        check_frame(out.len())?;
        Ok(self.inner.decode_float(packet, out, false)?)
    }

    /// Fills `out` for a frame that never arrived (and has no FEC to
    /// recover it): libopus extrapolates from the last frames and fades to
    /// comfort noise, which is also how DTX silence is played.
    pub fn conceal(&mut self, out: &mut [f32]) -> Result<usize, OpusError> {
        check_frame(out.len())?;
        Ok(self.inner.decode_float(&[], out, false)?)
    }

    /// Rebuilds the lost frame N from the FEC data carried in packet N+1.
    /// Decode packet N+1 itself normally afterwards. If N+1 carries no FEC
    /// (the sender saw no loss, or it is CELT-only), libopus conceals instead.
    pub fn recover_from_next(
        &mut self,
        next_packet: &[u8],
        out: &mut [f32],
    ) -> Result<usize, OpusError> {
        check_frame(out.len())?;
        Ok(self.inner.decode_float(next_packet, out, true)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::audio::{AudioSource, Babble, Chirp};
    use std::time::Duration;

    /// Encodes `frames` 20 ms frames of `source`; `None` marks DTX.
    fn encode_all(
        enc: &mut OpusEncoder,
        source: &mut dyn AudioSource,
        frames: usize,
    ) -> (Vec<f32>, Vec<Option<Vec<u8>>>) {
        let mut pcm = vec![0.0; OPUS_FRAME_SAMPLES];
        let mut buf = [0u8; MAX_PACKET_BYTES];
        let (mut original, mut packets) = (Vec::new(), Vec::new());
        for _ in 0..frames {
            source.fill(&mut pcm);
            original.extend_from_slice(&pcm);
            packets.push(match enc.encode(&pcm, &mut buf).unwrap() {
                Encoded::Packet(n) => Some(buf[..n].to_vec()),
                Encoded::Silence => None,
            });
        }
        (original, packets)
    }

    /// The codec delays its output by its look-ahead; find that lag by
    /// cross-correlation rather than hard-coding libopus internals.
    fn best_lag(original: &[f32], decoded: &[f32]) -> usize {
        (0..1000)
            .max_by(|&a, &b| {
                let c = |lag: usize| -> f32 {
                    original[..40_000]
                        .iter()
                        .zip(&decoded[lag..])
                        .map(|(x, y)| x * y)
                        .sum()
                };
                c(a).total_cmp(&c(b))
            })
            .unwrap_or(0)
    }

    fn error_energy(
        original: &[f32],
        decoded: &[f32],
        lag: usize,
        range: std::ops::Range<usize>,
    ) -> f32 {
        range
            .map(|i| (original[i] - decoded[i + lag]).powi(2))
            .sum()
    }

    #[test]
    fn a_chirp_survives_encode_and_decode() {
        let mut enc = OpusEncoder::new(EncoderConfig::default()).unwrap();
        let mut chirp = Chirp::new(300.0, 3400.0, Duration::from_millis(500), 0.5);
        let (original, packets) = encode_all(&mut enc, &mut chirp, 100);
        let mut dec = OpusDecoder::new().unwrap();
        let mut decoded = Vec::new();
        let mut out = vec![0.0; OPUS_FRAME_SAMPLES];
        for p in &packets {
            let p = p.as_ref().expect("a chirp is never DTX silence");
            assert_eq!(dec.decode(p, &mut out).unwrap(), OPUS_FRAME_SAMPLES);
            decoded.extend_from_slice(&out);
        }
        let lag = best_lag(&original, &decoded);
        // Skip the first 100 ms while the encoder settles on a mode.
        let range = 4800..original.len() - lag;
        let signal: f32 = original[range.clone()].iter().map(|x| x * x).sum();
        let snr_db = 10.0 * (signal / error_energy(&original, &decoded, lag, range)).log10();
        println!("opus 32 kbit/s chirp: lag {lag} samples, SNR {snr_db:.1} dB");
        // Opus is a perceptual codec, so waveform SNR is modest; 10 dB means
        // the residual is a tenth of the signal's power: the chirp is there
        // and in phase, not replaced by noise or shifted in time.
        assert!(snr_db >= 10.0, "SNR {snr_db:.1} dB");
    }

    #[test]
    fn fec_recovers_a_lost_frame_better_than_concealment() {
        let config = EncoderConfig {
            expected_loss_percent: 20,
            ..EncoderConfig::default()
        };
        let mut enc = OpusEncoder::new(config).unwrap();
        let mut speech = Babble::new(0.5, 5);
        let (original, packets) = encode_all(&mut enc, &mut speech, 150);
        // Frames in the middle of syllables (DTX would leave gaps elsewhere).
        let lost: Vec<usize> = (20..140)
            .filter(|&n| packets[n].is_some() && packets[n + 1].is_some())
            .filter(|&n| {
                let frame = &original[n * OPUS_FRAME_SAMPLES..(n + 1) * OPUS_FRAME_SAMPLES];
                frame.iter().map(|x| x * x).sum::<f32>() > 5.0
            })
            .step_by(7)
            .collect();
        assert!(lost.len() >= 4, "{lost:?}");

        let run = |use_fec: bool| -> Vec<f32> {
            let mut dec = OpusDecoder::new().unwrap();
            let mut out = vec![0.0; OPUS_FRAME_SAMPLES];
            let mut decoded = Vec::new();
            for (n, p) in packets.iter().enumerate() {
                if lost.contains(&n) {
                    let next = packets[n + 1].as_ref().unwrap();
                    if use_fec {
                        dec.recover_from_next(next, &mut out).unwrap();
                    } else {
                        dec.conceal(&mut out).unwrap();
                    }
                } else if let Some(p) = p {
                    dec.decode(p, &mut out).unwrap();
                } else {
                    dec.conceal(&mut out).unwrap();
                }
                decoded.extend_from_slice(&out);
            }
            decoded
        };
        let (with_fec, with_plc) = (run(true), run(false));
        let lag = best_lag(&original, &with_fec);
        let err = |decoded: &[f32]| -> f32 {
            lost.iter()
                .map(|&n| {
                    let range = n * OPUS_FRAME_SAMPLES..(n + 1) * OPUS_FRAME_SAMPLES;
                    error_energy(&original, decoded, lag, range)
                })
                .sum()
        };
        let (fec_err, plc_err) = (err(&with_fec), err(&with_plc));
        println!(
            "{} lost frames, error energy: FEC {fec_err:.2}, PLC {plc_err:.2}",
            lost.len()
        );
        // FEC is a lower-bitrate copy, so it is not exact; but it is the
        // real signal, where concealment only extrapolates. Deterministic
        // here: about half the error of PLC.
        assert!(fec_err < 0.7 * plc_err, "FEC {fec_err} vs PLC {plc_err}");
    }

    #[test]
    fn dtx_sends_almost_nothing_for_silence() {
        let mut enc = OpusEncoder::new(EncoderConfig::default()).unwrap();
        let silence = vec![0.0; OPUS_FRAME_SAMPLES];
        let mut buf = [0u8; MAX_PACKET_BYTES];
        let results: Vec<Encoded> = (0..100)
            .map(|_| enc.encode(&silence, &mut buf).unwrap())
            .collect();
        let sent: usize = results
            .iter()
            .map(|r| match r {
                Encoded::Packet(n) => *n,
                Encoded::Silence => 0,
            })
            .sum();
        let silent = results.iter().filter(|r| **r == Encoded::Silence).count();
        println!("2 s of silence: {silent}/100 frames not sent, {sent} bytes in all");
        // libopus still sends a comfort-noise update every 400 ms.
        assert!(silent >= 80, "{silent} DTX frames");
        // Talking would be 100 frames of about 80 bytes at 32 kbit/s.
        assert!(sent < 800, "{sent} bytes");
    }

    #[test]
    fn a_lower_bitrate_makes_smaller_packets() {
        let config = EncoderConfig {
            bitrate_bps: 64_000,
            dtx: false,
            ..EncoderConfig::default()
        };
        let mut enc = OpusEncoder::new(config).unwrap();
        let mut chirp = Chirp::new(300.0, 3400.0, Duration::from_millis(300), 0.5);
        let mean = |packets: &[Option<Vec<u8>>]| -> f32 {
            let sizes: Vec<usize> = packets.iter().flatten().map(Vec::len).collect();
            sizes.iter().sum::<usize>() as f32 / sizes.len() as f32
        };
        let (_, high) = encode_all(&mut enc, &mut chirp, 50);
        enc.set_bitrate(12_000).unwrap();
        assert_eq!(enc.config().bitrate_bps, 12_000);
        let (_, low) = encode_all(&mut enc, &mut chirp, 50);
        let (high, low) = (mean(&high[10..]), mean(&low[10..]));
        println!("mean packet: {high:.0} bytes at 64 kbit/s, {low:.0} at 12 kbit/s");
        // 64 → 12 kbit/s is 160 → 30 bytes a frame if the encoder obeys.
        assert!(low < high / 2.5, "{high} → {low}");
    }

    #[test]
    fn wrong_frame_lengths_and_bitrates_are_refused() {
        let mut enc = OpusEncoder::new(EncoderConfig::default()).unwrap();
        let mut buf = [0u8; MAX_PACKET_BYTES];
        assert!(matches!(
            enc.encode(&[0.0; 480], &mut buf),
            Err(OpusError::FrameLength {
                expected: 960,
                actual: 480
            })
        ));
        assert!(matches!(
            enc.set_bitrate(1_000),
            Err(OpusError::Bitrate(1_000))
        ));
        let mut dec = OpusDecoder::new().unwrap();
        assert!(dec.decode(&[0xff, 0xff, 0xff], &mut [0.0; 960]).is_err());
    }
}
