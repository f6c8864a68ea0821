//! Video: VP8 through libvpx, simulcast, scaling and pooled frames.
//!
//! The send side is [`SimulcastEncoder`]: one captured [`VideoFrame`] in,
//! up to three VP8 frames out (full, half and quarter size). The receive
//! side is [`Vp8Decoder`], which hands out frames from a [`FramePool`] and
//! refuses to show anything built on a lost reference until a keyframe
//! arrives (the caller then sends a keyframe request upstream).

mod decoder;
mod encoder;
mod pool;
mod scale;
mod simulcast;
mod vpx;

pub use decoder::Vp8Decoder;
pub use encoder::{DEFAULT_CPU_USED, EncodedFrame, EncoderConfig, Vp8Encoder, default_threads};
pub use pool::{FramePool, PooledFrame};
pub use scale::Scaler;
pub use simulcast::{Layer, LayerConfig, SimulcastConfig, SimulcastEncoder, SimulcastOutput};

use crate::frame::{FrameError, VideoFrame};

/// Why a video operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// libvpx refused a call; `detail` is its own explanation.
    #[error("libvpx {op} failed: {detail}")]
    Codec { op: &'static str, detail: String },
    #[error("frame is {got:?} but the codec was set up for {expected:?}")]
    WrongSize {
        expected: (u32, u32),
        got: (u32, u32),
    },
    /// The decoder will not show frames until a keyframe arrives; ask the
    /// sender for one.
    #[error("the decoder needs a keyframe: {0}")]
    NeedKeyframe(KeyframeReason),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("scaling failed: {0}")]
    Scale(#[from] pic_scale::PicScaleError),
}

/// Why the decoder wants a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyframeReason {
    #[error("no keyframe received yet")]
    NoKeyframeYet,
    #[error("picture {got} arrived when {expected} was due: a frame was lost")]
    Gap { expected: u64, got: u64 },
    #[error("libvpx could not decode the frame or found it corrupt")]
    Corrupt,
}

/// Peak signal-to-noise ratio of the Y planes in dB (infinite when equal).
///
/// Both frames must have the same size.
pub fn psnr_y(reference: &VideoFrame, test: &VideoFrame) -> Result<f64, VideoError> {
    if (reference.width(), reference.height()) != (test.width(), test.height()) {
        return Err(VideoError::WrongSize {
            expected: (reference.width(), reference.height()),
            got: (test.width(), test.height()),
        });
    }
    let (a, _, _) = reference.planes();
    let (b, _, _) = test.planes();
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = u64::from(x.abs_diff(y));
            d * d
        })
        .sum();
    if sse == 0 {
        return Ok(f64::INFINITY);
    }
    let mse = sse as f64 / a.len() as f64;
    Ok(10.0 * (255.0 * 255.0 / mse).log10())
}
