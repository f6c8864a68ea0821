//! Three VP8 layers from one capture: full, half and quarter size.

use std::time::Duration;

use super::VideoError;
use super::encoder::{EncodedFrame, EncoderConfig, Vp8Encoder};
use super::scale::Scaler;
use crate::frame::VideoFrame;

/// A simulcast layer, largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    Full = 0,
    Half = 1,
    Quarter = 2,
}

impl Layer {
    pub const ALL: [Layer; 3] = [Layer::Full, Layer::Half, Layer::Quarter];

    /// How much smaller than the capture this layer is, in each direction.
    pub fn scale_down(self) -> u32 {
        1 << (self as u32)
    }
}

/// Rate settings for one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerConfig {
    pub bitrate_kbps: u32,
    pub max_fps: u32,
}

/// The capture size and each layer's rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulcastConfig {
    pub width: u32,
    pub height: u32,
    /// Indexed by [`Layer`].
    pub layers: [LayerConfig; 3],
    /// libvpx `cpu-used` for every layer.
    pub cpu_used: i32,
}

impl SimulcastConfig {
    /// The call defaults for a capture of this size (720p gives
    /// 1280×720@30 at 1.1 Mbps, 640×360@30 at 350 kbps, 320×180@15 at
    /// 100 kbps): the middle of the ranges WebRTC uses for these sizes.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            layers: [
                LayerConfig {
                    bitrate_kbps: 1100,
                    max_fps: 30,
                },
                LayerConfig {
                    bitrate_kbps: 350,
                    max_fps: 30,
                },
                LayerConfig {
                    bitrate_kbps: 100,
                    max_fps: 15,
                },
            ],
            cpu_used: super::DEFAULT_CPU_USED,
        }
    }

    /// A layer's size: the capture divided by its factor, rounded down to
    /// even as I420 needs.
    pub fn layer_size(&self, layer: Layer) -> (u32, u32) {
        let even = |v: u32| (v / layer.scale_down()) & !1;
        (even(self.width), even(self.height))
    }
}

/// What one [`SimulcastEncoder::encode`] call produced. Reuse it across
/// calls: its buffers keep their capacity.
#[derive(Debug, Default)]
pub struct SimulcastOutput {
    frames: [EncodedFrame; 3],
    produced: [bool; 3],
}

impl SimulcastOutput {
    /// The layer's frame, if it produced one this time.
    pub fn get(&self, layer: Layer) -> Option<&EncodedFrame> {
        self.produced[layer as usize].then(|| &self.frames[layer as usize])
    }

    /// The frames produced this time, largest layer first.
    pub fn iter(&self) -> impl Iterator<Item = (Layer, &EncodedFrame)> {
        Layer::ALL
            .into_iter()
            .filter_map(|l| self.get(l).map(|f| (l, f)))
    }
}

#[derive(Debug)]
struct LayerState {
    encoder: Vp8Encoder,
    paused: bool,
    interval: Duration,
    next_due: Option<Duration>,
}

impl LayerState {
    /// Frame-rate decimation on capture timestamps, tolerant of a quarter
    /// interval of jitter so a 30 fps capture feeds a 15 fps layer every
    /// other frame.
    fn due(&self, ts: Duration) -> bool {
        !self.paused
            && self
                .next_due
                .is_none_or(|due| ts + self.interval / 4 >= due)
    }

    fn advance(&mut self, ts: Duration) {
        let next = self.next_due.map_or(ts, |d| d) + self.interval;
        self.next_due = Some(if next <= ts { ts + self.interval } else { next });
    }
}

/// Encodes each captured frame into up to three layers.
///
/// The half layer is scaled from the capture and the quarter layer from
/// the half picture (two cheap 2:1 steps). A paused layer costs no
/// encoding and, when no lower layer needs its picture, no scaling either.
/// Resuming starts the layer with a keyframe, since receivers that switch
/// to it have no reference.
#[derive(Debug)]
pub struct SimulcastEncoder {
    config: SimulcastConfig,
    layers: [LayerState; 3],
    to_half: Scaler,
    to_quarter: Scaler,
    half: VideoFrame,
    quarter: VideoFrame,
}

impl SimulcastEncoder {
    pub fn new(config: SimulcastConfig) -> Result<Self, VideoError> {
        let make = |layer: Layer| -> Result<LayerState, VideoError> {
            let (w, h) = config.layer_size(layer);
            let rates = config.layers[layer as usize];
            let mut c = EncoderConfig::new(w, h, rates.bitrate_kbps, rates.max_fps);
            c.cpu_used = config.cpu_used;
            Ok(LayerState {
                encoder: Vp8Encoder::new(c)?,
                paused: false,
                interval: Duration::from_secs(1) / rates.max_fps.max(1),
                next_due: None,
            })
        };
        let full = config.layer_size(Layer::Full);
        let half = config.layer_size(Layer::Half);
        let quarter = config.layer_size(Layer::Quarter);
        Ok(Self {
            layers: [
                make(Layer::Full)?,
                make(Layer::Half)?,
                make(Layer::Quarter)?,
            ],
            to_half: Scaler::new(full, half)?,
            to_quarter: Scaler::new(half, quarter)?,
            half: VideoFrame::black(half.0, half.1, Duration::ZERO)?,
            quarter: VideoFrame::black(quarter.0, quarter.1, Duration::ZERO)?,
            config,
        })
    }

    pub fn config(&self) -> &SimulcastConfig {
        &self.config
    }

    /// Stops encoding a layer (nobody subscribes to it).
    pub fn pause(&mut self, layer: Layer) {
        self.layers[layer as usize].paused = true;
    }

    /// Starts a paused layer again, with a keyframe.
    pub fn resume(&mut self, layer: Layer) {
        let state = &mut self.layers[layer as usize];
        if state.paused {
            state.paused = false;
            state.next_due = None;
            state.encoder.request_keyframe();
        }
    }

    pub fn is_paused(&self, layer: Layer) -> bool {
        self.layers[layer as usize].paused
    }

    pub fn set_bitrate(&mut self, layer: Layer, kbps: u32) -> Result<(), VideoError> {
        self.layers[layer as usize].encoder.set_bitrate(kbps)?;
        self.config.layers[layer as usize].bitrate_kbps = kbps;
        Ok(())
    }

    pub fn request_keyframe(&mut self, layer: Layer) {
        self.layers[layer as usize].encoder.request_keyframe();
    }

    /// Encodes one captured frame (of the configured size) into every
    /// layer that is running and due.
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        out: &mut SimulcastOutput,
    ) -> Result<(), VideoError> {
        let ts = frame.timestamp;
        let due = [0, 1, 2].map(|i| self.layers[i].due(ts));
        out.produced = [false; 3];
        if due[Layer::Half as usize] || due[Layer::Quarter as usize] {
            self.to_half.scale(frame, &mut self.half)?;
        }
        if due[Layer::Quarter as usize] {
            self.to_quarter.scale(&self.half, &mut self.quarter)?;
        }
        let pictures = [frame, &self.half, &self.quarter];
        for (i, picture) in pictures.into_iter().enumerate() {
            if !due[i] {
                continue;
            }
            let state = &mut self.layers[i];
            state.advance(ts);
            out.produced[i] = state.encoder.encode(picture, &mut out.frames[i])?;
        }
        Ok(())
    }
}
