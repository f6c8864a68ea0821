//! Where fake devices get their content: the source traits, and sources
//! reading Y4M and WAV files.
//!
//! The traits are deliberately tiny so that any generator (the test pattern
//! and tone generators in `confab_media::synth`, a file, a network replay)
//! can feed a [`crate::fake::FakeCamera`] or [`crate::fake::FakeMicrophone`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{DeviceError, SAMPLE_RATE, VideoFrame, resample_to_48k};

/// Pictures for a fake camera.
pub trait VideoSource: Send {
    /// The picture for frame `index` (0, 1, 2, … at the camera's rate),
    /// captured at `timestamp` from the stream's start. Sources that read
    /// files sequentially may ignore `index`; generators should draw it in.
    fn frame(&mut self, index: u64, timestamp: Duration) -> VideoFrame;
}

/// Sound for a fake microphone: the media crate's generator trait, so its
/// tones, chirps and babble plug in directly. The fake microphone calls
/// `fill` with 10 ms (480 samples) at a time, but any length must work.
pub use confab_media::synth::audio::AudioSource;

/// The test pattern (frame number and capture time drawn into the pixels)
/// as a camera picture.
impl VideoSource for confab_media::synth::video::TestPattern {
    fn frame(&mut self, index: u64, timestamp: Duration) -> VideoFrame {
        let (width, height) = self.size();
        let mut frame = VideoFrame::black(width, height, timestamp)
            .expect("the pattern's size is a valid frame size");
        self.render(index as u32, &mut frame);
        frame
    }
}

impl<F: FnMut(u64, Duration) -> VideoFrame + Send> VideoSource for F {
    fn frame(&mut self, index: u64, timestamp: Duration) -> VideoFrame {
        self(index, timestamp)
    }
}

/// Silence, for a microphone nobody speaks into.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silence {
    produced: u64,
}

impl AudioSource for Silence {
    fn fill(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        self.produced += out.len() as u64;
    }

    fn position(&self) -> u64 {
        self.produced
    }
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> DeviceError {
    DeviceError::File {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// Plays a 4:2:0 YUV4MPEG2 (`.y4m`) file, frame after frame.
///
/// Frames are read as they are needed, so long files cost no memory. At the
/// end it starts over when looping, and otherwise keeps showing the last
/// picture (a camera does not stop on its own). A read error mid-file is
/// treated like the end of the file.
#[derive(Debug)]
pub struct Y4mSource {
    path: PathBuf,
    reader: BufReader<File>,
    width: u32,
    height: u32,
    fps: (u32, u32),
    first_frame_at: u64,
    looping: bool,
    last: Option<VideoFrame>,
}

impl Y4mSource {
    pub fn open(path: impl AsRef<Path>, looping: bool) -> Result<Self, DeviceError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| file_error(path, e))?;
        let mut reader = BufReader::new(file);
        let mut header = Vec::new();
        reader
            .read_until(b'\n', &mut header)
            .map_err(|e| file_error(path, e))?;
        let header = String::from_utf8_lossy(&header);
        let (width, height, fps) =
            parse_y4m_header(header.trim_end()).map_err(|reason| file_error(path, reason))?;
        let first_frame_at = reader.stream_position().map_err(|e| file_error(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            reader,
            width,
            height,
            fps,
            first_frame_at,
            looping,
            last: None,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The frame rate the file declares, as numerator and denominator.
    pub fn frame_rate(&self) -> (u32, u32) {
        self.fps
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next frame, or `None` at the end of the file.
    fn read_frame(&mut self, timestamp: Duration) -> Option<VideoFrame> {
        let mut marker = Vec::new();
        self.reader.read_until(b'\n', &mut marker).ok()?;
        if !marker.starts_with(b"FRAME") {
            return None;
        }
        let mut data = vec![0; VideoFrame::byte_len(self.width, self.height)];
        self.reader.read_exact(&mut data).ok()?;
        VideoFrame::from_i420(self.width, self.height, timestamp, data).ok()
    }
}

impl VideoSource for Y4mSource {
    fn frame(&mut self, _index: u64, timestamp: Duration) -> VideoFrame {
        let mut frame = self.read_frame(timestamp);
        if frame.is_none() && self.looping {
            let rewound = self.reader.seek(SeekFrom::Start(self.first_frame_at));
            frame = rewound.ok().and_then(|_| self.read_frame(timestamp));
        }
        if let Some(f) = frame {
            self.last = Some(f.clone());
            return f;
        }
        match &self.last {
            Some(last) => {
                let mut again = last.clone();
                again.timestamp = timestamp;
                again
            }
            // An empty file: a black picture is the honest fallback.
            None => VideoFrame::black(self.width, self.height, timestamp)
                .expect("dimensions were checked when the header was parsed"),
        }
    }
}

/// Parses `YUV4MPEG2 W.. H.. F..:.. [I.] [A..] [C..] [X..]`.
/// Why a Y4M header was refused; its sentence becomes the file error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Y4mHeaderError {
    #[error("not a YUV4MPEG2 file")]
    NotY4m,
    #[error("bad header field {0:?}")]
    BadField(String),
    #[error("colour space C{0} is not 4:2:0")]
    NotYuv420(String),
    #[error("interlaced video is not supported")]
    Interlaced,
    #[error("the header lacks a width or height")]
    NoSize,
    #[error(transparent)]
    Size(#[from] confab_media::frame::FrameError),
}

fn parse_y4m_header(line: &str) -> Result<(u32, u32, (u32, u32)), Y4mHeaderError> {
    let mut fields = line.split(' ');
    if fields.next() != Some("YUV4MPEG2") {
        return Err(Y4mHeaderError::NotY4m);
    }
    let (mut width, mut height, mut fps) = (None, None, (30, 1));
    for field in fields.filter(|f| !f.is_empty()) {
        let (tag, value) = field.split_at(1);
        let bad = || Y4mHeaderError::BadField(field.to_owned());
        match tag {
            "W" => width = Some(value.parse::<u32>().map_err(|_| bad())?),
            "H" => height = Some(value.parse::<u32>().map_err(|_| bad())?),
            "F" => {
                let (n, d) = value.split_once(':').ok_or_else(bad)?;
                fps = (n.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
            }
            "C" if !value.starts_with("420") => {
                return Err(Y4mHeaderError::NotYuv420(value.to_owned()));
            }
            "I" if value != "p" && value != "?" => {
                return Err(Y4mHeaderError::Interlaced);
            }
            _ => {}
        }
    }
    let (Some(w), Some(h)) = (width, height) else {
        return Err(Y4mHeaderError::NoSize);
    };
    VideoFrame::black(w, h, Duration::ZERO)?;
    Ok((w, h, fps))
}

/// Plays a WAV file as 48 kHz mono: channels are averaged and other rates
/// resampled with rubato when the file is opened (test clips are small, and
/// the playback thread then only copies).
///
/// At the end it starts over when looping, and otherwise plays silence.
#[derive(Debug, Clone)]
pub struct WavSource {
    samples: Vec<f32>,
    position: usize,
    looping: bool,
    /// Samples handed out so far, across loops.
    produced: u64,
}

impl WavSource {
    pub fn open(path: impl AsRef<Path>, looping: bool) -> Result<Self, DeviceError> {
        let path = path.as_ref();
        let reader = hound::WavReader::open(path).map_err(|e| file_error(path, e))?;
        let spec = reader.spec();
        let interleaved: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| file_error(path, e))?,
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|s| s as f32 * scale))
                    .collect::<Result<_, _>>()
                    .map_err(|e| file_error(path, e))?
            }
        };
        let channels = usize::from(spec.channels.max(1));
        let mono: Vec<f32> = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect();
        Ok(Self {
            samples: resample_to_48k(&mono, spec.sample_rate)?,
            position: 0,
            looping,
            produced: 0,
        })
    }

    /// The clip's length at 48 kHz.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }

    /// The whole clip at 48 kHz mono.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }
}

impl AudioSource for WavSource {
    fn position(&self) -> u64 {
        self.produced
    }

    fn fill(&mut self, out: &mut [f32]) {
        self.produced += out.len() as u64;
        let mut written = 0;
        while written < out.len() {
            if self.position == self.samples.len() {
                if !self.looping || self.samples.is_empty() {
                    out[written..].fill(0.0);
                    return;
                }
                self.position = 0;
            }
            let n = (out.len() - written).min(self.samples.len() - self.position);
            out[written..written + n]
                .copy_from_slice(&self.samples[self.position..self.position + n]);
            written += n;
            self.position += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y4m_headers_are_read_and_unsupported_ones_refused() {
        assert_eq!(
            parse_y4m_header("YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG"),
            Ok((64, 48, (25, 1)))
        );
        assert_eq!(parse_y4m_header("YUV4MPEG2 W64 H48"), Ok((64, 48, (30, 1))));
        assert!(parse_y4m_header("YUV4MPEG2 W64 H48 C444").is_err());
        assert!(parse_y4m_header("YUV4MPEG2 W63 H48").is_err());
        assert!(parse_y4m_header("YUV4MPEG2 W64 H48 It").is_err());
        assert!(parse_y4m_header("P6 64 48").is_err());
    }
}
