//! What the SFU reads from a VP8 payload without decoding it: whether a
//! packet starts a keyframe (the only safe place to switch layers), the
//! picture ID to rewrite, and the frame size a keyframe announces (which
//! tells the layer chooser how big each simulcast layer really is).

use str0m::rtp::Vp8Descriptor;

/// What one VP8 RTP payload tells the forwarder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vp8Info {
    pub(crate) descriptor: Vp8Descriptor,
    pub(crate) keyframe_start: bool,
    /// Width and height from the keyframe header (RFC 6386 §9.1).
    pub(crate) size: Option<(u16, u16)>,
}

/// Inspects a VP8 payload; `None` if its descriptor is malformed.
pub(crate) fn inspect(payload: &[u8]) -> Option<Vp8Info> {
    let descriptor = Vp8Descriptor::parse(payload).ok()?;
    let keyframe_start = descriptor.starts_keyframe(payload);
    let size = if keyframe_start {
        keyframe_size(&payload[descriptor_len(payload)?..])
    } else {
        None
    };
    Some(Vp8Info {
        descriptor,
        keyframe_start,
        size,
    })
}

/// Length of the payload descriptor (RFC 7741 §4.2).
fn descriptor_len(payload: &[u8]) -> Option<usize> {
    let first = *payload.first()?;
    if first & 0x80 == 0 {
        return Some(1);
    }
    let ext = *payload.get(1)?;
    let mut len = 2;
    if ext & 0x80 != 0 {
        len += if *payload.get(len)? & 0x80 != 0 { 2 } else { 1 };
    }
    if ext & 0x40 != 0 {
        len += 1;
    }
    if ext & 0x30 != 0 {
        len += 1;
    }
    Some(len)
}

/// The frame size in a keyframe's uncompressed header: a 3-byte frame
/// tag, the start code 9d 01 2a, then 14-bit width and height.
fn keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    if frame.get(3..6)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([*frame.get(6)?, *frame.get(7)?]) & 0x3fff;
    let height = u16::from_le_bytes([*frame.get(8)?, *frame.get(9)?]) & 0x3fff;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X, S and PID 0; I with a 15-bit picture ID; then a keyframe header.
    fn keyframe(width: u16, height: u16) -> Vec<u8> {
        let mut p = vec![0x90, 0x80, 0x80 | 0x12, 0x34];
        p.extend_from_slice(&[0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
        p.extend_from_slice(&width.to_le_bytes());
        p.extend_from_slice(&height.to_le_bytes());
        p
    }

    #[test]
    fn a_keyframe_start_announces_its_size_and_picture_id() {
        let info = inspect(&keyframe(640, 360)).expect("valid");
        assert!(info.keyframe_start);
        assert_eq!(info.size, Some((640, 360)));
        assert_eq!(info.descriptor.picture_id(), Some(0x1234));
    }

    #[test]
    fn continuation_and_delta_packets_are_not_keyframe_starts() {
        let mut continuation = keyframe(640, 360);
        continuation[0] = 0x80; // S cleared: the middle of a frame
        assert!(!inspect(&continuation).expect("valid").keyframe_start);
        let mut delta = keyframe(640, 360);
        delta[4] = 0x01; // P bit set: an interframe
        let info = inspect(&delta).expect("valid");
        assert!(!info.keyframe_start);
        assert_eq!(info.size, None);
    }
}
