//! A moving test pattern whose pixels carry the frame number and capture
//! time, readable again after lossy coding and scaling.
//!
//! Layout, top to bottom: a stamp band of three rows of 32 black/white
//! cells (each cell `width / 32` pixels square, so 10×10 at 320×180 and
//! 40×40 at 1280×720: a 720p stamp scaled to a lower simulcast layer lands
//! exactly on that layer's own cell grid), then 75% colour bars with a
//! moving checkered block. Row 0 holds the frame number, row 1 the
//! timestamp in milliseconds, row 2 a CRC-16 of both and a fixed marker,
//! so a misread is reported as `None`, never as a wrong stamp.

use std::time::Duration;

use crate::frame::{FrameError, VideoFrame};

/// What the pattern writes into each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub frame_number: u32,
    /// Capture time from the stream's start (wraps after 49 days).
    pub timestamp_ms: u32,
}

const CELLS: usize = 32;
const ROWS: usize = 3;
const MARKER: u32 = 0xA5C3;
const WHITE: u8 = 235;
const BLACK: u8 = 16;

/// BT.601 studio-range 75% bars: white, yellow, cyan, green, magenta, red,
/// blue, as (Y, U, V).
const BARS: [(u8, u8, u8); 7] = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
];

fn cell_size(width: u32) -> usize {
    (width as usize / CELLS).max(1)
}

/// CRC-16/CCITT-FALSE.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn stamp_words(stamp: Stamp) -> [u32; ROWS] {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&stamp.frame_number.to_be_bytes());
    bytes[4..].copy_from_slice(&stamp.timestamp_ms.to_be_bytes());
    [
        stamp.frame_number,
        stamp.timestamp_ms,
        u32::from(crc16(&bytes)) << 16 | MARKER,
    ]
}

/// Draws `stamp` into the top band of `frame` (grey, no chroma).
pub fn write_stamp(frame: &mut VideoFrame, stamp: Stamp) {
    let width = frame.width() as usize;
    let cell = cell_size(frame.width());
    let band = (ROWS * cell).min(frame.height() as usize);
    let words = stamp_words(stamp);
    let (y, u, v) = frame.planes_mut();
    for (row_index, row) in y.chunks_exact_mut(width).take(band).enumerate() {
        let word = words[row_index / cell];
        for (bit, cells) in row.chunks_mut(cell).enumerate() {
            let on = bit < CELLS && word >> (CELLS - 1 - bit) & 1 == 1;
            cells.fill(if on { WHITE } else { BLACK });
        }
    }
    let chroma_band = band.div_ceil(2) * (width / 2);
    u[..chroma_band].fill(128);
    v[..chroma_band].fill(128);
}

/// Reads the stamp back, or `None` if the band is missing or misread.
pub fn read_stamp(frame: &VideoFrame) -> Option<Stamp> {
    let width = frame.width() as usize;
    let cell = cell_size(frame.width());
    if ROWS * cell > frame.height() as usize || CELLS * cell > width {
        return None;
    }
    let (y, _, _) = frame.planes();
    // Sample the middle of each cell: coding and scaling smear its edges.
    let margin = cell / 4;
    let inner = margin..(cell - margin).max(margin + 1);
    let mut words = [0u32; ROWS];
    for (r, word) in words.iter_mut().enumerate() {
        for bit in 0..CELLS {
            let (mut sum, mut n) = (0u32, 0u32);
            for dy in inner.clone() {
                let start = (r * cell + dy) * width + bit * cell;
                for &p in &y[start + inner.start..start + inner.end] {
                    sum += u32::from(p);
                    n += 1;
                }
            }
            let on = sum >= n * u32::from(WHITE.midpoint(BLACK));
            *word = *word << 1 | u32::from(on);
        }
    }
    let stamp = Stamp {
        frame_number: words[0],
        timestamp_ms: words[1],
    };
    (stamp_words(stamp)[2] == words[2]).then_some(stamp)
}

/// A moving test pattern at any even size.
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    fps: u32,
    next: u32,
    busy: bool,
}

impl TestPattern {
    pub fn new(width: u32, height: u32, fps: u32) -> Result<Self, FrameError> {
        VideoFrame::black(width, height, Duration::ZERO)?;
        Ok(Self {
            width,
            height,
            fps: fps.max(1),
            next: 0,
            busy: false,
        })
    }

    /// Width and height of the frames it draws.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Adds a scrolling noise texture under the bars: a harsh clip for
    /// encoder benchmarks, far harder to compress than a camera image.
    pub fn busy(mut self) -> Self {
        self.busy = true;
        self
    }

    /// The next frame, newly allocated (for tests and tools; the capture
    /// path renders into pooled frames with [`TestPattern::render_next`]).
    pub fn next_frame(&mut self) -> VideoFrame {
        let mut frame = VideoFrame::black(self.width, self.height, Duration::ZERO)
            .expect("size checked in new");
        self.render_next(&mut frame);
        frame
    }

    /// Draws the next frame into `frame` (of this pattern's size) and sets
    /// its timestamp.
    pub fn render_next(&mut self, frame: &mut VideoFrame) -> Stamp {
        let stamp = self.render(self.next, frame);
        self.next = self.next.wrapping_add(1);
        stamp
    }

    /// Draws frame `n` into `frame`: a pure function of `n`.
    pub fn render(&self, n: u32, frame: &mut VideoFrame) -> Stamp {
        let timestamp_ms = (u64::from(n) * 1000 / u64::from(self.fps)) as u32;
        frame.timestamp = Duration::from_millis(u64::from(timestamp_ms));
        let band = (ROWS * cell_size(self.width)).min(self.height as usize) & !1;
        self.draw_bars(frame, band);
        if self.busy {
            self.draw_noise(frame, n);
        }
        self.draw_block(frame, n, band);
        let stamp = Stamp {
            frame_number: n,
            timestamp_ms,
        };
        write_stamp(frame, stamp);
        stamp
    }

    fn draw_bars(&self, frame: &mut VideoFrame, band: usize) {
        let (w, cw) = (self.width as usize, self.width as usize / 2);
        let (y, u, v) = frame.planes_mut();
        let bar = |x: usize, width: usize| BARS[(x * BARS.len() / width).min(BARS.len() - 1)];
        for row in y.chunks_exact_mut(w).skip(band) {
            for (x, p) in row.iter_mut().enumerate() {
                *p = bar(x, w).0;
            }
        }
        for (urow, vrow) in u
            .chunks_exact_mut(cw)
            .zip(v.chunks_exact_mut(cw))
            .skip(band / 2)
        {
            for (x, (pu, pv)) in urow.iter_mut().zip(vrow.iter_mut()).enumerate() {
                (_, *pu, *pv) = bar(x, cw);
            }
        }
    }

    /// Grainy texture over the bottom third: ±16 of pseudo-random 2×2
    /// blocks on the bars, scrolling diagonally, like a camera's noise in
    /// poor light. Full-range noise would be incompressible and make rate
    /// control drop frames instead of encoding them.
    fn draw_noise(&self, frame: &mut VideoFrame, n: u32) {
        let w = self.width as usize;
        let top = self.height as usize * 2 / 3;
        let (y, _, _) = frame.planes_mut();
        for (row_index, row) in y.chunks_exact_mut(w).enumerate().skip(top) {
            for (x, p) in row.iter_mut().enumerate() {
                let bx = (x as u32 + n * 5) / 2;
                let by = (row_index as u32 + n * 3) / 2;
                let mut h = bx.wrapping_mul(0x9E37_79B1) ^ by.wrapping_mul(0x85EB_CA77);
                h ^= h >> 15;
                h = h.wrapping_mul(0x2C1B_3C6D);
                *p = (*p as u32 + (h >> 27)).saturating_sub(16).clamp(16, 235) as u8;
            }
        }
    }

    /// A checkered square bouncing left and right under the stamp band.
    fn draw_block(&self, frame: &mut VideoFrame, n: u32, band: usize) {
        let (w, h) = (self.width as usize, self.height as usize);
        let side = ((h - band) / 3).max(2) & !1;
        let span = w.saturating_sub(side).max(1);
        let step = (w / 90).max(2);
        let travel = n as usize * step % (2 * span);
        let x0 = (if travel < span {
            travel
        } else {
            2 * span - travel
        }) & !1;
        let y0 = (band + (h - band - side) / 2) & !1;
        let square = (side / 4).max(1);
        let (y, u, v) = frame.planes_mut();
        for dy in 0..side {
            let row = &mut y[(y0 + dy) * w + x0..][..side.min(w - x0)];
            for (dx, p) in row.iter_mut().enumerate() {
                *p = if (dx / square + dy / square).is_multiple_of(2) {
                    WHITE
                } else {
                    BLACK
                };
            }
        }
        let cw = w / 2;
        for dy in 0..side / 2 {
            let start = (y0 / 2 + dy) * cw + x0 / 2;
            let len = (side / 2).min(cw - x0 / 2);
            u[start..start + len].fill(90);
            v[start..start + len].fill(200);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_reads_back_from_the_raw_pattern_at_all_three_layer_sizes() {
        for (w, h) in [(1280, 720), (640, 360), (320, 180)] {
            let mut pattern = TestPattern::new(w, h, 30).unwrap();
            for n in 0..3 {
                let frame = pattern.next_frame();
                let stamp = read_stamp(&frame).expect("stamp readable");
                assert_eq!(stamp.frame_number, n);
                assert_eq!(stamp.timestamp_ms, n * 1000 / 30);
                assert_eq!(
                    frame.timestamp,
                    Duration::from_millis(u64::from(n * 1000 / 30))
                );
            }
        }
    }

    #[test]
    fn large_values_round_trip_and_a_flipped_cell_is_detected() {
        let mut frame = VideoFrame::black(320, 180, Duration::ZERO).unwrap();
        let stamp = Stamp {
            frame_number: 0xDEAD_BEEF,
            timestamp_ms: u32::MAX,
        };
        write_stamp(&mut frame, stamp);
        assert_eq!(read_stamp(&frame), Some(stamp));
        // Invert cell 5 of row 0 (frame number): the CRC no longer matches.
        let (y, _, _) = frame.planes_mut();
        for row in 0..10 {
            for p in &mut y[row * 320 + 50..row * 320 + 60] {
                *p = if *p == WHITE { BLACK } else { WHITE };
            }
        }
        assert_eq!(read_stamp(&frame), None);
    }

    #[test]
    fn the_block_moves_and_busy_frames_differ_below_the_bars() {
        let pattern = TestPattern::new(320, 180, 30).unwrap();
        let mut a = VideoFrame::black(320, 180, Duration::ZERO).unwrap();
        let mut b = a.clone();
        pattern.render(0, &mut a);
        pattern.render(10, &mut b);
        let (ya, _, _) = a.planes();
        let (yb, _, _) = b.planes();
        let mid = 320 * 90..320 * 91;
        assert_ne!(ya[mid.clone()], yb[mid]);
        let busy = TestPattern::new(320, 180, 30).unwrap().busy();
        busy.render(0, &mut b);
        assert_ne!(a.planes().0[320 * 170..], b.planes().0[320 * 170..]);
        assert!(TestPattern::new(321, 180, 30).is_err());
    }
}
