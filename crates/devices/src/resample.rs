//! Sample-rate conversion at the device edge, with rubato.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::DeviceError;

/// Converts a mono stream that arrives in pieces of any length.
///
/// Devices deliver callbacks of whatever size they like; rubato's FFT
/// resampler wants fixed chunks. This buffers input up to 10 ms chunks of the
/// input rate, so it adds at most 10 ms plus the resampler's own delay.
/// When both rates are equal it copies, so 48 kHz devices pay nothing.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    chunk_in: usize,
    out: Vec<f32>,
}

impl std::fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResampler")
            .field("resampling", &self.inner.is_some())
            .field("chunk_in", &self.chunk_in)
            .finish()
    }
}

impl StreamResampler {
    pub fn new(rate_in: u32, rate_out: u32) -> Result<Self, DeviceError> {
        let chunk_in = (rate_in as usize / 100).max(1);
        if rate_in == rate_out {
            return Ok(Self {
                inner: None,
                pending: Vec::new(),
                chunk_in,
                out: Vec::new(),
            });
        }
        let fft = Fft::<f32>::new(
            rate_in as usize,
            rate_out as usize,
            chunk_in,
            1,
            FixedSync::Input,
        )?;
        let out = vec![0.0; fft.output_frames_max()];
        Ok(Self {
            inner: Some(fft),
            pending: Vec::with_capacity(chunk_in * 2),
            chunk_in,
            out,
        })
    }

    /// Feeds `input` and appends whatever output is ready to `output`.
    pub fn process(&mut self, input: &[f32], output: &mut Vec<f32>) -> Result<(), DeviceError> {
        let Some(fft) = self.inner.as_mut() else {
            output.extend_from_slice(input);
            return Ok(());
        };
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start >= self.chunk_in {
            let chunk = &self.pending[start..start + self.chunk_in];
            let adapter_in = InterleavedSlice::new(chunk, 1, self.chunk_in)
                .map_err(|e| DeviceError::Resampler(e.to_string()))?;
            let frames_out = self.out.len();
            let mut adapter_out = InterleavedSlice::new_mut(&mut self.out, 1, frames_out)
                .map_err(|e| DeviceError::Resampler(e.to_string()))?;
            let (_, written) = fft.process_into_buffer(&adapter_in, &mut adapter_out, None)?;
            output.extend_from_slice(&self.out[..written]);
            start += self.chunk_in;
        }
        self.pending.drain(..start);
        Ok(())
    }
}

/// Resamples a whole mono clip (e.g. a WAV file) to 48 kHz.
pub fn resample_to_48k(samples: &[f32], rate: u32) -> Result<Vec<f32>, DeviceError> {
    if rate == crate::SAMPLE_RATE || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut fft = Fft::<f32>::new(
        rate as usize,
        crate::SAMPLE_RATE as usize,
        1024,
        1,
        FixedSync::Both,
    )?;
    let input = InterleavedSlice::new(samples, 1, samples.len())
        .map_err(|e| DeviceError::Resampler(e.to_string()))?;
    Ok(fft.process_all(&input, samples.len(), None)?.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;

    fn sine(freq: f32, rate: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (TAU * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    /// Upward zero crossings: a frequency estimate that needs no FFT.
    fn rising_crossings(x: &[f32]) -> usize {
        x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count()
    }

    #[test]
    fn stream_of_odd_sized_pieces_at_44k1_becomes_one_second_at_48k() {
        let input = sine(1000.0, 44_100, 44_100);
        let mut r = StreamResampler::new(44_100, 48_000).unwrap();
        let mut out = Vec::new();
        for piece in input.chunks(313) {
            r.process(piece, &mut out).unwrap();
        }
        // Everything but the last partial 10 ms chunk comes out.
        assert!(
            (47_500..=48_000).contains(&out.len()),
            "got {} samples",
            out.len()
        );
        // The tone keeps its pitch: ~1000 crossings per second of output,
        // less the resampler's start-up delay.
        // The tone keeps its pitch. The first 50 ms are skipped: the
        // resampler's start-up delay is near-silence whose rounding noise
        // would count as crossings.
        let steady = &out[2400..];
        let crossings = rising_crossings(steady) as f32 * 48_000.0 / steady.len() as f32;
        assert!((crossings - 1000.0).abs() < 3.0, "{crossings} Hz");
    }

    #[test]
    fn equal_rates_pass_through_untouched() {
        let input = sine(440.0, 48_000, 1000);
        let mut r = StreamResampler::new(48_000, 48_000).unwrap();
        let mut out = Vec::new();
        r.process(&input, &mut out).unwrap();
        assert_eq!(out, input);
    }

    #[test]
    fn a_whole_clip_at_16k_is_three_times_longer_at_48k() {
        let out = resample_to_48k(&sine(500.0, 16_000, 16_000), 16_000).unwrap();
        assert_eq!(out.len(), 48_000);
        let crossings = rising_crossings(&out[1000..47_000]) as f32 / (46_000.0 / 48_000.0);
        assert!((crossings - 500.0).abs() < 5.0, "{crossings} Hz");
    }
}
