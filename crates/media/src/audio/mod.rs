//! The audio half of the media engine: Opus, echo cancellation with noise
//! suppression and gain control, the jitter buffer and the mixer.
//!
//! Everything works at 48 kHz mono. Capture runs in 10 ms frames (what
//! devices and audio processing use) and is encoded in 20 ms Opus frames;
//! playout pulls one 20 ms frame per stream per tick from the jitter buffer.

pub mod jitter;
pub mod mixer;
pub mod opus;
pub mod processing;
