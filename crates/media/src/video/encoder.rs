//! One VP8 encoder tuned for real-time calls.

use std::time::Duration;

use super::VideoError;
use super::vpx::{RawEncoder, RawEncoderConfig};
use crate::frame::VideoFrame;

/// libvpx `cpu-used` for real time. Negative values fix the speed level
/// instead of letting libvpx adapt it to the deadline. Measured on the busy
/// 720p clip at 1.1 Mbps (docs/benchmarks.md): -12 takes 0.65 of -6's time
/// per frame and -16 only 0.59, while -12 still keeps the test pattern well
/// above 35 dB; past -12 the gain is small and quality drops faster.
pub const DEFAULT_CPU_USED: i32 = -12;

/// Threads for one encoder: one on machines with up to four cores, where
/// several encoders (three simulcast layers) already compete and libvpx's
/// row threading was measured several times slower on two cores; two for
/// 720p and larger on bigger machines, as WebRTC does.
pub fn default_threads(width: u32, height: u32) -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores > 4 && width * height >= 1280 * 720 {
        2
    } else {
        1
    }
}

/// How to set up a [`Vp8Encoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    pub width: u32,
    pub height: u32,
    /// CBR target; change it later with [`Vp8Encoder::set_bitrate`].
    pub bitrate_kbps: u32,
    /// The highest rate frames will be fed at; sizes the intra-frame cap.
    pub max_fps: u32,
    pub threads: u32,
    /// libvpx `cpu-used`, -16 (fastest) to 16.
    pub cpu_used: i32,
    /// Reset entropy contexts on every frame, so that a lost frame spoils
    /// only pictures that reference it, not the probabilities of later ones.
    pub error_resilient: bool,
}

impl EncoderConfig {
    /// Real-time defaults for this size and rate.
    pub fn new(width: u32, height: u32, bitrate_kbps: u32, max_fps: u32) -> Self {
        Self {
            width,
            height,
            bitrate_kbps,
            max_fps,
            threads: default_threads(width, height),
            cpu_used: DEFAULT_CPU_USED,
            error_resilient: true,
        }
    }
}

/// One compressed VP8 frame. Reused across calls: `data` keeps its
/// capacity, so steady-state encoding does not allocate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
    /// Consecutive per encoder output (like RTP's VP8 picture ID), so a
    /// receiver can tell a lost frame from a dropped one.
    pub picture_id: u64,
    /// Capture time of the source frame.
    pub timestamp: Duration,
    pub width: u32,
    pub height: u32,
}

/// A VP8 encoder in real-time CBR mode.
#[derive(Debug)]
pub struct Vp8Encoder {
    raw: RawEncoder,
    config: EncoderConfig,
    keyframe_requested: bool,
    next_picture_id: u64,
}

impl Vp8Encoder {
    pub fn new(config: EncoderConfig) -> Result<Self, VideoError> {
        let raw = RawEncoder::new(&RawEncoderConfig {
            width: config.width,
            height: config.height,
            bitrate_kbps: config.bitrate_kbps,
            max_fps: config.max_fps,
            threads: config.threads,
            cpu_used: config.cpu_used,
            error_resilient: config.error_resilient,
        })?;
        Ok(Self {
            raw,
            config,
            keyframe_requested: false,
            next_picture_id: 0,
        })
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Changes the target bitrate from the next frame on.
    pub fn set_bitrate(&mut self, kbps: u32) -> Result<(), VideoError> {
        self.raw.set_bitrate(kbps)?;
        self.config.bitrate_kbps = kbps;
        Ok(())
    }

    /// Makes the next encoded frame a keyframe (after a receiver's PLI or
    /// FIR, or when a paused layer resumes).
    pub fn request_keyframe(&mut self) {
        self.keyframe_requested = true;
    }

    /// Encodes `frame` into `out`. Returns `false` when rate control
    /// dropped the frame to stay within the bitrate (then `out` is stale).
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        out: &mut EncodedFrame,
    ) -> Result<bool, VideoError> {
        out.data.clear();
        let pts = i64::try_from(frame.timestamp.as_millis()).unwrap_or(i64::MAX);
        let duration = 1000 / self.config.max_fps.max(1);
        let force = self.keyframe_requested;
        let Some(key) = self
            .raw
            .encode(frame, pts, duration, force, &mut out.data)?
        else {
            return Ok(false);
        };
        // A request is only served by a frame that was actually sent.
        self.keyframe_requested = false;
        out.keyframe = key;
        out.picture_id = self.next_picture_id;
        out.timestamp = frame.timestamp;
        out.width = frame.width();
        out.height = frame.height();
        self.next_picture_id += 1;
        Ok(true)
    }
}
