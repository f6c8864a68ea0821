//! Deterministic test audio: sine, linear chirp, click train and a
//! speech-like babble, plus a matched-filter [`ChirpDetector`] that proves a
//! known chirp arrived and says where.
//!
//! Every generator keeps its phase between calls, so frames of any length
//! can be pulled one after another and join without a discontinuity: a
//! stream cut into 10 ms or 20 ms frames is the same signal.

use std::f64::consts::TAU;
use std::time::Duration;

use crate::frame::{AudioFrame, SAMPLE_RATE};

const FS: f64 = SAMPLE_RATE as f64;

/// Something that writes the next samples of an endless signal.
pub trait AudioSource {
    /// Writes the next `out.len()` samples.
    fn fill(&mut self, out: &mut [f32]);

    /// Samples produced so far.
    fn position(&self) -> u64;

    /// The next `len` samples as a frame stamped with their start time.
    fn next_frame(&mut self, len: usize) -> AudioFrame {
        let timestamp = samples_to_duration(self.position());
        let mut samples = vec![0.0; len];
        self.fill(&mut samples);
        AudioFrame { samples, timestamp }
    }
}

fn samples_to_duration(n: u64) -> Duration {
    Duration::from_nanos(n * 1_000_000_000 / u64::from(SAMPLE_RATE))
}

/// A sine wave at a fixed frequency.
#[derive(Debug, Clone)]
pub struct Sine {
    freq_hz: f64,
    amplitude: f32,
    // Phase in cycles, kept in [0, 1) so precision does not decay over hours.
    phase: f64,
    position: u64,
}

impl Sine {
    pub fn new(freq_hz: f64, amplitude: f32) -> Self {
        Self {
            freq_hz,
            amplitude,
            phase: 0.0,
            position: 0,
        }
    }
}

impl AudioSource for Sine {
    fn fill(&mut self, out: &mut [f32]) {
        let step = self.freq_hz / FS;
        for s in out.iter_mut() {
            *s = self.amplitude * (TAU * self.phase).sin() as f32;
            self.phase = (self.phase + step).fract();
        }
        self.position += out.len() as u64;
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// A linear chirp from `f0` to `f1` over `period`, repeated: the phase runs
/// on across the restart, only the frequency jumps back.
#[derive(Debug, Clone)]
pub struct Chirp {
    f0: f64,
    f1: f64,
    period: u64,
    amplitude: f32,
    phase: f64,
    position: u64,
}

impl Chirp {
    /// `period` is rounded to whole samples and must be at least one.
    pub fn new(f0: f64, f1: f64, period: Duration, amplitude: f32) -> Self {
        let period = ((period.as_secs_f64() * FS).round() as u64).max(1);
        Self {
            f0,
            f1,
            period,
            amplitude,
            phase: 0.0,
            position: 0,
        }
    }

    /// One sweep starting at `phase` (in cycles): with phase 0 and 0.25 the
    /// in-phase and quadrature templates a [`ChirpDetector`] looks for.
    pub fn sweep(&self, phase: f64) -> Vec<f32> {
        let mut fresh = self.clone();
        fresh.phase = phase;
        fresh.position = 0;
        let mut out = vec![0.0; self.period as usize];
        fresh.fill(&mut out);
        out
    }
}

impl AudioSource for Chirp {
    fn fill(&mut self, out: &mut [f32]) {
        let slope = (self.f1 - self.f0) / self.period as f64;
        for s in out.iter_mut() {
            *s = self.amplitude * (TAU * self.phase).sin() as f32;
            let within = (self.position % self.period) as f64;
            let freq = self.f0 + slope * within;
            self.phase = (self.phase + freq / FS).fract();
            self.position += 1;
        }
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// Short clicks (a few samples of a decaying pulse) at a fixed interval,
/// for measuring delay by eye in a recording.
#[derive(Debug, Clone)]
pub struct ClickTrain {
    interval: u64,
    amplitude: f32,
    position: u64,
}

/// Samples in one click; 1 ms is short enough to mark a time precisely.
const CLICK_LEN: u64 = 48;

impl ClickTrain {
    pub fn new(interval: Duration, amplitude: f32) -> Self {
        let interval = ((interval.as_secs_f64() * FS).round() as u64).max(CLICK_LEN + 1);
        Self {
            interval,
            amplitude,
            position: 0,
        }
    }
}

impl AudioSource for ClickTrain {
    fn fill(&mut self, out: &mut [f32]) {
        for s in out.iter_mut() {
            let within = self.position % self.interval;
            *s = if within < CLICK_LEN {
                // Alternating sign with an exponential decay: a click with
                // energy across the band rather than a DC step.
                let sign = if within.is_multiple_of(2) { 1.0 } else { -1.0 };
                sign * self.amplitude * (-(within as f32) / 8.0).exp()
            } else {
                0.0
            };
            self.position += 1;
        }
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// Seeded white noise, uniform in [-1, 1): the same seed gives the same
/// samples. xorshift64: deterministic, no dependency, plenty for test
/// signals.
#[derive(Debug, Clone)]
pub struct WhiteNoise {
    state: u64,
}

impl WhiteNoise {
    pub fn new(seed: u64) -> Self {
        // xorshift stays at zero from zero.
        Self { state: seed | 1 }
    }

    pub fn next_sample(&mut self) -> f32 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

/// A speech-like signal: a voiced buzz (harmonics of a gliding pitch) and
/// some hiss, switched on and off at syllable rate. Good enough to exercise
/// voice-activity logic, DTX, echo cancellers and noise suppressors, which
/// treat pure tones specially.
#[derive(Debug, Clone)]
pub struct Babble {
    amplitude: f32,
    phase: f64,
    noise: WhiteNoise,
    hiss: f32,
    position: u64,
}

impl Babble {
    /// `seed` picks the noise; the same seed gives the same signal.
    pub fn new(amplitude: f32, seed: u64) -> Self {
        Self {
            amplitude,
            phase: 0.0,
            noise: WhiteNoise::new(seed),
            hiss: 0.0,
            position: 0,
        }
    }
}

impl AudioSource for Babble {
    fn fill(&mut self, out: &mut [f32]) {
        for s in out.iter_mut() {
            let t = self.position as f64 / FS;
            // Pitch glides between 100 and 160 Hz like intonation does.
            let pitch = 130.0 + 30.0 * (TAU * 0.7 * t).sin();
            self.phase = (self.phase + pitch / FS).fract();
            let voiced: f64 = (1..=12)
                .map(|k| (TAU * self.phase * f64::from(k)).sin() / f64::from(k))
                .sum();
            // Syllables: about four a second, with pauses between words.
            let syllable = (TAU * 4.0 * t).sin().max(0.0);
            let word = if (TAU * 0.45 * t).sin() > -0.3 {
                1.0
            } else {
                0.0
            };
            let n = self.noise.next_sample();
            self.hiss = 0.7 * self.hiss + 0.3 * n;
            let sample = 0.45 * voiced as f32 + 0.15 * self.hiss;
            *s = self.amplitude * sample * (syllable * word) as f32;
            self.position += 1;
        }
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// Where a chirp was found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChirpMatch {
    /// Index of the chirp's first sample in the searched audio.
    pub offset: usize,
    /// Normalised correlation in [0, 1]: 1 is an exact (scaled) copy.
    pub score: f32,
}

/// Finds a known chirp in received audio with a matched filter.
///
/// The chirp generator keeps its phase running from one sweep to the next,
/// and codecs shift phase too, so the detector correlates with an in-phase
/// and a quadrature copy of the sweep and takes the magnitude: the score
/// does not depend on the phase the chirp arrives with. Normalising by the
/// window's energy makes it independent of gain as well (a chirp that came
/// back quieter, or louder through AGC, scores the same). The search is
/// direct (O(audio × template)); for a 50 ms template over a few seconds of
/// audio that is well under a second even in a debug build.
#[derive(Debug, Clone)]
pub struct ChirpDetector {
    in_phase: Vec<f32>,
    quadrature: Vec<f32>,
    template_norm: f32,
    threshold: f32,
}

impl ChirpDetector {
    /// `threshold` is the lowest score in [0, 1] that counts as found; 0.5
    /// separates a chirp through Opus at 16 kbps (about 0.9) from speech or
    /// noise (below 0.3).
    pub fn new(chirp: &Chirp, threshold: f32) -> Self {
        let in_phase = chirp.sweep(0.0);
        let quadrature = chirp.sweep(0.25);
        // Both copies have (nearly) the same energy; averaging keeps the
        // score of a perfect copy at 1 whatever its phase.
        let template_norm = ((energy(&in_phase) + energy(&quadrature)) / 2.0).sqrt();
        Self {
            in_phase,
            quadrature,
            template_norm,
            threshold,
        }
    }

    fn score_at(&self, audio: &[f32], offset: usize, window_energy: f32) -> f32 {
        let window = &audio[offset..offset + self.in_phase.len()];
        let (mut i, mut q) = (0.0f32, 0.0f32);
        for ((x, a), b) in window.iter().zip(&self.in_phase).zip(&self.quadrature) {
            i += x * a;
            q += x * b;
        }
        let denom = window_energy.sqrt() * self.template_norm;
        if denom <= f32::EPSILON {
            0.0
        } else {
            (i * i + q * q).sqrt() / denom
        }
    }

    /// Scores for every offset at which the template fits.
    fn scores(&self, audio: &[f32]) -> Vec<f32> {
        let m = self.in_phase.len();
        if m == 0 || audio.len() < m {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(audio.len() - m + 1);
        // Running window energy in f64: subtracting and adding in f32 over
        // a long search drifts enough to matter in quiet passages.
        let mut window_energy: f64 = audio[..m].iter().map(|&x| f64::from(x * x)).sum();
        for offset in 0..=audio.len() - m {
            out.push(self.score_at(audio, offset, window_energy.max(0.0) as f32));
            if offset + m < audio.len() {
                window_energy += f64::from(audio[offset + m].powi(2));
                window_energy -= f64::from(audio[offset].powi(2));
            }
        }
        out
    }

    /// The best match, if it clears the threshold.
    pub fn find(&self, audio: &[f32]) -> Option<ChirpMatch> {
        let scores = self.scores(audio);
        let (offset, &score) = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))?;
        (score >= self.threshold).then_some(ChirpMatch { offset, score })
    }

    /// Every match that clears the threshold, at least one template length
    /// apart, in order.
    pub fn find_all(&self, audio: &[f32]) -> Vec<ChirpMatch> {
        let scores = self.scores(audio);
        let m = self.in_phase.len();
        let mut found: Vec<ChirpMatch> = Vec::new();
        for (offset, &score) in scores.iter().enumerate() {
            if score < self.threshold {
                continue;
            }
            match found.last_mut() {
                Some(last) if offset < last.offset + m => {
                    if score > last.score {
                        *last = ChirpMatch { offset, score };
                    }
                }
                _ => found.push(ChirpMatch { offset, score }),
            }
        }
        found
    }
}

fn energy(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_join_without_a_seam_whatever_their_length() {
        let mut whole = Chirp::new(300.0, 3000.0, Duration::from_millis(50), 0.8);
        let mut pieces = whole.clone();
        let all = whole.next_frame(4800).samples;
        let mut joined = Vec::new();
        for len in [7, 480, 960, 1, 3352] {
            joined.extend(pieces.next_frame(len).samples);
        }
        assert_eq!(all, joined);
    }

    #[test]
    fn frames_carry_their_start_time() {
        let mut sine = Sine::new(440.0, 0.5);
        sine.next_frame(480);
        let second = sine.next_frame(960);
        assert_eq!(second.timestamp, Duration::from_millis(10));
        assert_eq!(second.duration(), Duration::from_millis(20));
    }

    #[test]
    fn sine_has_the_asked_amplitude_and_frequency() {
        let mut sine = Sine::new(1000.0, 0.5);
        let s = sine.next_frame(48_000).samples;
        let peak = s.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.5).abs() < 1e-3, "peak {peak}");
        // 1 kHz crosses zero upwards 1000 times a second.
        let rising = s.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((999..=1001).contains(&rising), "{rising} rising crossings");
    }

    #[test]
    fn click_train_clicks_at_its_interval() {
        let mut clicks = ClickTrain::new(Duration::from_millis(100), 0.9);
        let s = clicks.next_frame(48_000).samples;
        let starts: Vec<usize> = (0..s.len())
            .filter(|&i| s[i] > 0.5 && (i == 0 || s[i - 1].abs() < 1e-6))
            .collect();
        assert_eq!(starts, (0..10).map(|k| k * 4800).collect::<Vec<_>>());
    }

    #[test]
    fn babble_is_deterministic_and_pauses() {
        let a = Babble::new(0.5, 7).next_frame(48_000).samples;
        let b = Babble::new(0.5, 7).next_frame(48_000).samples;
        assert_eq!(a, b);
        let silent_10ms = a.chunks(480).filter(|c| energy(c) < 1e-6).count();
        assert!(silent_10ms > 10, "speech has pauses; got {silent_10ms}");
        assert!(a.iter().all(|x| x.abs() <= 0.5));
    }

    #[test]
    fn detector_finds_a_quiet_chirp_in_noise_at_its_offset() {
        let chirp = Chirp::new(500.0, 4000.0, Duration::from_millis(50), 1.0);
        let detector = ChirpDetector::new(&chirp, 0.5);
        let mut audio = Babble::new(0.3, 3).next_frame(24_000).samples;
        for (i, t) in chirp.sweep(0.6).iter().enumerate() {
            audio[10_007 + i] += 0.2 * t;
        }
        let found = detector.find(&audio).expect("chirp found");
        assert_eq!(found.offset, 10_007);
        assert!(found.score > 0.5, "score {}", found.score);
    }

    #[test]
    fn detector_finds_nothing_in_speech_and_every_chirp_in_a_train() {
        let chirp = Chirp::new(500.0, 4000.0, Duration::from_millis(50), 1.0);
        let detector = ChirpDetector::new(&chirp, 0.5);
        let speech = Babble::new(0.5, 11).next_frame(24_000).samples;
        assert_eq!(detector.find(&speech), None);

        let mut train = chirp.clone();
        let mut audio = vec![0.0; 1000];
        audio.extend(train.next_frame(3 * 2400).samples);
        let offsets: Vec<usize> = detector.find_all(&audio).iter().map(|m| m.offset).collect();
        assert_eq!(offsets, vec![1000, 3400, 5800]);
    }
}
