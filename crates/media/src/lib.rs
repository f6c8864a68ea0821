//! Confab's media engine: everything between a device and a network
//! packet, with no network code.
//!
//! Internally audio is 48 kHz mono `f32` and video is I420. Devices
//! (`confab-devices`) produce [`AudioFrame`]s and [`VideoFrame`]s; the
//! encoders here turn them into Opus and VP8 payloads, and the receive side
//! (jitter buffer, decoders, mixer) turns payloads back into frames.

pub mod audio;
pub mod frame;
pub mod synth;
pub mod video;

pub use frame::{AudioFrame, SAMPLE_RATE, VideoFrame};
