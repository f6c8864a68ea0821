//! VP8 decoding into pooled I420 frames, with loss detection.

use super::encoder::EncodedFrame;
use super::pool::{FramePool, PooledFrame};
use super::vpx::RawDecoder;
use super::{KeyframeReason, VideoError};

/// Decoded frames a consumer may hold at once before the pool allocates
/// more: one on screen, one being scaled for its tile, one spare.
const POOL_DEPTH: usize = 3;

/// A VP8 decoder that never shows a picture built on a missing reference.
///
/// Each [`EncodedFrame`] carries a consecutive picture ID. When one is
/// skipped (a lost frame), or libvpx reports an error or corruption, the
/// decoder returns [`VideoError::NeedKeyframe`] for every frame until the
/// next keyframe: the caller sends a keyframe request (PLI) upstream and
/// keeps showing the last good frame.
#[derive(Debug)]
pub struct Vp8Decoder {
    raw: RawDecoder,
    pool: FramePool,
    next_picture_id: Option<u64>,
    broken: Option<KeyframeReason>,
}

impl Vp8Decoder {
    pub fn new() -> Result<Self, VideoError> {
        Ok(Self {
            raw: RawDecoder::new()?,
            pool: FramePool::new(POOL_DEPTH),
            next_picture_id: None,
            broken: Some(KeyframeReason::NoKeyframeYet),
        })
    }

    /// Whether the decoder is waiting for a keyframe.
    pub fn needs_keyframe(&self) -> bool {
        self.broken.is_some()
    }

    /// Decodes one frame into a buffer from the decoder's pool.
    ///
    /// `Ok(None)` means libvpx produced no picture (it does not for
    /// invisible frames).
    pub fn decode(&mut self, packet: &EncodedFrame) -> Result<Option<PooledFrame>, VideoError> {
        let keyframe = is_keyframe(&packet.data);
        if let Some(expected) = self.next_picture_id
            && expected != packet.picture_id
            && !keyframe
        {
            self.broken = Some(KeyframeReason::Gap {
                expected,
                got: packet.picture_id,
            });
        }
        self.next_picture_id = Some(packet.picture_id.wrapping_add(1));
        if keyframe {
            self.broken = None;
        }
        if let Some(reason) = self.broken {
            return Err(VideoError::NeedKeyframe(reason));
        }
        let decoded = self.raw.decode(&packet.data);
        let corrupted = decoded.is_err() || self.raw.last_frame_corrupted()?;
        if corrupted {
            self.broken = Some(KeyframeReason::Corrupt);
            return Err(VideoError::NeedKeyframe(KeyframeReason::Corrupt));
        }
        self.copy_out(packet)
    }

    fn copy_out(&mut self, packet: &EncodedFrame) -> Result<Option<PooledFrame>, VideoError> {
        let Some(img) = self.raw.frame() else {
            return Ok(None);
        };
        let mut frame = self.pool.get(img.width, img.height, packet.timestamp)?;
        let (y, u, v) = frame.planes_mut();
        let (w, cw) = (img.width as usize, img.width as usize / 2);
        for ((src, stride), (dst, width)) in img.planes.into_iter().zip([(y, w), (u, cw), (v, cw)])
        {
            // libvpx pads its rows; ours are packed.
            for (d, s) in dst.chunks_exact_mut(width).zip(src.chunks(stride)) {
                d.copy_from_slice(&s[..width]);
            }
        }
        Ok(Some(frame))
    }
}

/// VP8's frame tag: bit 0 of the first byte is 0 for a keyframe (RFC 6386
/// section 9.1).
fn is_keyframe(data: &[u8]) -> bool {
    data.first().is_some_and(|b| b & 1 == 0)
}
