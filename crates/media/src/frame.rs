//! Raw media: audio frames (48 kHz mono `f32`) and video frames (I420).

use std::time::Duration;

/// The one sample rate used inside Confab. Devices that run at another
/// rate are resampled at the edge.
pub const SAMPLE_RATE: u32 = 48_000;

/// Samples in 10 ms, the size devices and audio processing work in.
pub const SAMPLES_PER_10MS: usize = (SAMPLE_RATE / 100) as usize;

/// A run of mono samples at [`SAMPLE_RATE`], in [-1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFrame {
    pub samples: Vec<f32>,
    /// Capture (or playout) time of the first sample, from the stream's start.
    pub timestamp: Duration,
}

impl AudioFrame {
    /// The frame's length in time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }
}

/// A picture in I420: a full-resolution Y plane followed by quarter-size
/// U and V planes, each tightly packed (stride = plane width).
///
/// Width and height are even, so the chroma planes are exactly half in
/// each direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    width: u32,
    height: u32,
    /// Capture time from the stream's start.
    pub timestamp: Duration,
    data: Vec<u8>,
}

/// Why raw frame data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame dimensions {width}x{height} must be even and non-zero")]
    BadDimensions { width: u32, height: u32 },
    #[error("an I420 frame of {width}x{height} needs {expected} bytes, got {actual}")]
    WrongLength {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
}

impl VideoFrame {
    /// Bytes of an I420 frame of this size.
    pub fn byte_len(width: u32, height: u32) -> usize {
        let luma = width as usize * height as usize;
        luma + luma / 2
    }

    /// A black frame.
    pub fn black(width: u32, height: u32, timestamp: Duration) -> Result<Self, FrameError> {
        check_dimensions(width, height)?;
        let luma = width as usize * height as usize;
        let mut data = vec![16u8; Self::byte_len(width, height)];
        data[luma..].fill(128);
        Ok(Self {
            width,
            height,
            timestamp,
            data,
        })
    }

    /// Wraps packed I420 bytes (Y, then U, then V).
    pub fn from_i420(
        width: u32,
        height: u32,
        timestamp: Duration,
        data: Vec<u8>,
    ) -> Result<Self, FrameError> {
        check_dimensions(width, height)?;
        let expected = Self::byte_len(width, height);
        if data.len() != expected {
            return Err(FrameError::WrongLength {
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            timestamp,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The packed I420 bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Takes the buffer back, e.g. to return it to a pool.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// The Y, U and V planes.
    pub fn planes(&self) -> (&[u8], &[u8], &[u8]) {
        let luma = self.width as usize * self.height as usize;
        let (y, uv) = self.data.split_at(luma);
        let (u, v) = uv.split_at(luma / 4);
        (y, u, v)
    }

    /// The Y, U and V planes, writable.
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let luma = self.width as usize * self.height as usize;
        let (y, uv) = self.data.split_at_mut(luma);
        let (u, v) = uv.split_at_mut(luma / 4);
        (y, u, v)
    }
}

fn check_dimensions(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(FrameError::BadDimensions { width, height });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i420_planes_split_a_quarter_each_for_chroma() {
        let f = VideoFrame::black(640, 360, Duration::ZERO).unwrap();
        let (y, u, v) = f.planes();
        assert_eq!(
            (y.len(), u.len(), v.len()),
            (640 * 360, 320 * 180, 320 * 180)
        );
        assert!(y.iter().all(|&p| p == 16) && u.iter().all(|&p| p == 128));
    }

    #[test]
    fn odd_sizes_and_wrong_lengths_are_refused() {
        assert!(VideoFrame::black(641, 360, Duration::ZERO).is_err());
        let err = VideoFrame::from_i420(4, 4, Duration::ZERO, vec![0; 10]).unwrap_err();
        assert_eq!(
            err,
            FrameError::WrongLength {
                width: 4,
                height: 4,
                expected: 24,
                actual: 10
            }
        );
    }

    #[test]
    fn ten_milliseconds_is_480_samples() {
        let f = AudioFrame {
            samples: vec![0.0; SAMPLES_PER_10MS],
            timestamp: Duration::ZERO,
        };
        assert_eq!(f.duration(), Duration::from_millis(10));
    }
}
