//! Mixes the decoded frames of N remote streams for the speaker, and
//! measures audio levels in RFC 6464 form for active-speaker detection.
//!
//! The mixer's output is also the echo canceller's far-end reference
//! (`AudioProcessor::process_far`): hand it exactly what `mix` wrote.

/// One stream's frame for this mix, with its gain (1.0 leaves it as is).
#[derive(Debug, Clone, Copy)]
pub struct MixInput<'a> {
    pub samples: &'a [f32],
    pub gain: f32,
}

/// The level the limiter holds peaks to: 1 dB under full scale, leaving
/// room for the speaker path's own rounding.
const CEILING: f32 = 0.891;
/// Per-sample recovery of the limiter's gain, a time constant of about
/// 50 ms at 48 kHz: fast enough not to pump, slow enough not to distort.
const RELEASE: f32 = 1.0 / 2400.0;

/// Mixes N streams into one frame with a peak limiter.
///
/// The limiter reacts within the sample that would exceed the ceiling and
/// recovers smoothly, so two loud talkers come out quieter rather than
/// clipped into square waves.
#[derive(Debug)]
pub struct Mixer {
    /// The limiter's current gain, in (0, 1]; kept between frames.
    gain: f32,
}

impl Default for Mixer {
    fn default() -> Self {
        Self::new()
    }
}

impl Mixer {
    pub fn new() -> Self {
        Self { gain: 1.0 }
    }

    /// Mixes `inputs` into `out` (10 or 20 ms, whatever length `out` has;
    /// inputs shorter than `out` count as silence for the rest) and returns
    /// the mix's RFC 6464 level. Never allocates.
    pub fn mix(&mut self, inputs: &[MixInput<'_>], out: &mut [f32]) -> u8 {
        out.fill(0.0);
        for input in inputs {
            for (o, s) in out.iter_mut().zip(input.samples) {
                *o += s * input.gain;
            }
        }
        for o in out.iter_mut() {
            let peak = o.abs() * self.gain;
            if peak > CEILING {
                self.gain = CEILING / o.abs();
            }
            *o *= self.gain;
            self.gain = (self.gain + (1.0 - self.gain) * RELEASE).min(1.0);
        }
        audio_level(out)
    }
}

/// The audio level of a frame as RFC 6464 puts it in the RTP header
/// extension: 0 to 127, in -dBov, where 0 dBov is a full-scale square wave
/// (RMS 1.0) and 127 means silence (-127 dBov or below).
pub fn audio_level(samples: &[f32]) -> u8 {
    if samples.is_empty() {
        return 127;
    }
    let mean_square = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
    if mean_square <= 0.0 {
        return 127;
    }
    let dbov = 10.0 * mean_square.log10();
    (-dbov).round().clamp(0.0, 127.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::audio::{AudioSource, Sine};

    fn sine(freq: f64, amplitude: f32, len: usize) -> Vec<f32> {
        let mut s = vec![0.0; len];
        Sine::new(freq, amplitude).fill(&mut s);
        s
    }

    #[test]
    fn full_scale_sine_is_3_dbov_and_silence_127() {
        assert_eq!(audio_level(&sine(1000.0, 1.0, 960)), 3);
        assert_eq!(audio_level(&sine(1000.0, 0.1, 960)), 23);
        assert_eq!(audio_level(&[0.0; 960]), 127);
        assert_eq!(audio_level(&[1e-9; 960]), 127);
        assert_eq!(audio_level(&[]), 127);
    }

    #[test]
    fn two_loud_streams_stay_within_full_scale() {
        let (a, b) = (sine(440.0, 0.9, 9600), sine(660.0, 0.9, 9600));
        let mut mixer = Mixer::new();
        let mut out = vec![0.0; 960];
        let mut peak = 0.0f32;
        for k in 0..10 {
            let frame = k * 960..(k + 1) * 960;
            let inputs = [
                MixInput {
                    samples: &a[frame.clone()],
                    gain: 1.0,
                },
                MixInput {
                    samples: &b[frame],
                    gain: 1.0,
                },
            ];
            mixer.mix(&inputs, &mut out);
            peak = out.iter().fold(peak, |m, x| m.max(x.abs()));
        }
        assert!(peak <= 1.0, "peak {peak}");
        // Limited, not gated: the mix stays loud.
        assert!(peak > 0.8, "peak {peak}");
    }

    #[test]
    fn per_stream_gain_applies() {
        let a = sine(440.0, 0.2, 960);
        let mut out = vec![0.0; 960];
        let mut mixer = Mixer::new();
        mixer.mix(
            &[MixInput {
                samples: &a,
                gain: 0.5,
            }],
            &mut out,
        );
        for (o, s) in out.iter().zip(&a) {
            assert!((o - 0.5 * s).abs() < 1e-6);
        }
        let muted = mixer.mix(
            &[MixInput {
                samples: &a,
                gain: 0.0,
            }],
            &mut out,
        );
        assert_eq!(muted, 127);
    }

    #[test]
    fn quiet_mixes_pass_untouched_and_short_inputs_pad_with_silence() {
        let (a, b) = (sine(300.0, 0.3, 480), sine(500.0, 0.3, 240));
        let mut out = vec![0.0; 480];
        Mixer::new().mix(
            &[
                MixInput {
                    samples: &a,
                    gain: 1.0,
                },
                MixInput {
                    samples: &b,
                    gain: 1.0,
                },
            ],
            &mut out,
        );
        for i in 0..480 {
            let expected = a[i] + b.get(i).copied().unwrap_or(0.0);
            assert!((out[i] - expected).abs() < 1e-6, "sample {i}");
        }
    }
}
