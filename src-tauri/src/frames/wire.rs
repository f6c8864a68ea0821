//! What travels on the frame socket, with no I/O: the page's requests, the
//! binary frame header and the tile-fitting rule.
//!
//! The page sends JSON text messages:
//!
//! ```json
//! {"type": "subscribe", "tile": 7, "stream": "self", "width": 640, "height": 360}
//! {"type": "ack", "tile": 7}
//! {"type": "unsubscribe", "tile": 7}
//! ```
//!
//! `tile` is the page's own number for a drawing surface; subscribing it
//! again (to another stream or size) replaces its subscription. Each tile
//! has one frame in flight: after a frame the app sends nothing more to
//! that tile until the page acks it (or [`ACK_TIMEOUT`] passes), and then
//! sends the newest frame. A browser reads its socket into memory whatever
//! the page's speed, so without acks a slow page would queue frames there.
//! The app
//! answers with binary messages, one per frame: a [`HEADER_LEN`]-byte
//! little-endian header (tile `u32`, width `u16`, height `u16`, sequence
//! `u32`, timestamp in ms `u32`) followed by the I420 planes Y, U, V packed
//! at that width and height. The sequence counts frames published on the
//! stream, so the page sees how many it skipped. Refused requests get a
//! text message `{"type": "error", "message": "..."}`.

use serde::{Deserialize, Serialize};

/// Bytes before the pixels in each binary frame message.
pub const HEADER_LEN: usize = 16;

/// Largest tile side the page may ask for: a 4K screen.
pub const MAX_TILE_SIDE: u32 = 4096;

/// How long a tile waits for the page's ack before sending anyway (a page
/// that lost an ack must not freeze its tile).
pub const ACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Subscriptions one connection may hold: a 5×5 gallery and then some.
pub const MAX_TILES: usize = 64;

/// A request from the page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    Subscribe {
        tile: u32,
        stream: String,
        width: u32,
        height: u32,
    },
    /// The page has drawn (or dropped) the tile's last frame.
    Ack {
        tile: u32,
    },
    Unsubscribe {
        tile: u32,
    },
}

/// A text message to the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    Error { message: String },
}

/// Why a request was refused; the sentence goes back to the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("not a frame socket request: {0}")]
    Malformed(String),
    #[error("tile size {width}x{height} is outside 2x2 to {MAX_TILE_SIDE}x{MAX_TILE_SIDE}")]
    TileSize { width: u32, height: u32 },
    #[error("at most {MAX_TILES} tiles per connection")]
    TooManyTiles,
}

/// Parses and checks one request.
pub fn parse_request(text: &str) -> Result<Request, RequestError> {
    let request: Request =
        serde_json::from_str(text).map_err(|e| RequestError::Malformed(e.to_string()))?;
    if let Request::Subscribe { width, height, .. } = request {
        let ok = |side: u32| (2..=MAX_TILE_SIDE).contains(&side);
        if !ok(width) || !ok(height) {
            return Err(RequestError::TileSize { width, height });
        }
    }
    Ok(request)
}

/// The size a `src` picture is sent at for a `tile`: as large as fits
/// inside the tile with the picture's shape kept, never larger than the
/// source (upscaling is the GPU's job, and free), and even in both
/// directions as I420 needs.
pub fn fit(src: (u32, u32), tile: (u32, u32)) -> (u32, u32) {
    let scale = (f64::from(tile.0) / f64::from(src.0))
        .min(f64::from(tile.1) / f64::from(src.1))
        .min(1.0);
    let even = |side: u32| {
        let scaled = (f64::from(side) * scale).round() as u32;
        (scaled & !1).max(2)
    };
    (even(src.0), even(src.1))
}

/// The header of one frame message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub tile: u32,
    pub width: u16,
    pub height: u16,
    pub sequence: u32,
    pub timestamp_ms: u32,
}

impl FrameHeader {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.tile.to_le_bytes());
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_le_bytes());
    }

    /// Reads a header back (the page does this in TypeScript; Rust tests too).
    pub fn read(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        Some(Self {
            tile: u32_at(0),
            width: u16_at(4),
            height: u16_at(6),
            sequence: u32_at(8),
            timestamp_ms: u32_at(12),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_720p_picture_fits_a_3x3_grid_tile_by_width_or_height() {
        assert_eq!(fit((1280, 720), (426, 240)), (426, 240));
        // A tall tile: width limits, height follows the 16:9 shape.
        assert_eq!(fit((1280, 720), (400, 400)), (400, 224));
        // A wide tile: height limits.
        assert_eq!(fit((1280, 720), (1000, 200)), (356, 200));
    }

    #[test]
    fn pictures_are_never_sent_larger_than_captured_and_always_even() {
        assert_eq!(fit((640, 360), (1920, 1080)), (640, 360));
        assert_eq!(fit((1280, 720), (333, 999)), (332, 186));
        assert_eq!(fit((1280, 720), (2, 2)), (2, 2));
    }

    #[test]
    fn header_round_trips_little_endian() {
        let header = FrameHeader {
            tile: 7,
            width: 640,
            height: 360,
            sequence: 0x0102_0304,
            timestamp_ms: 99,
        };
        let mut out = Vec::new();
        header.write(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(&out[..4], &[7, 0, 0, 0]);
        assert_eq!(&out[8..12], &[4, 3, 2, 1]);
        assert_eq!(FrameHeader::read(&out), Some(header));
        assert_eq!(FrameHeader::read(&out[..15]), None);
    }

    #[test]
    fn requests_parse_and_bad_ones_are_refused_with_a_reason() {
        assert_eq!(
            parse_request(
                r#"{"type":"subscribe","tile":1,"stream":"self","width":640,"height":360}"#
            ),
            Ok(Request::Subscribe {
                tile: 1,
                stream: "self".into(),
                width: 640,
                height: 360
            })
        );
        assert_eq!(
            parse_request(r#"{"type":"unsubscribe","tile":1}"#),
            Ok(Request::Unsubscribe { tile: 1 })
        );
        assert_eq!(
            parse_request(r#"{"type":"ack","tile":4}"#),
            Ok(Request::Ack { tile: 4 })
        );
        assert_eq!(
            parse_request(r#"{"type":"subscribe","tile":1,"stream":"s","width":0,"height":9}"#),
            Err(RequestError::TileSize {
                width: 0,
                height: 9
            })
        );
        let err = parse_request(r#"{"type":"dance"}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("not a frame socket request"),
            "{err}"
        );
        assert!(parse_request("not json").is_err());
    }
}
