//! Camera pictures (YUYV, NV12, MJPEG, RGB) to I420.
//!
//! The colour work is yuvutils-rs (YUYV, RGB) and zune-jpeg (MJPEG). NV12
//! differs from I420 only in how the chroma bytes are laid out, so it is a
//! copy and a de-interleave with no arithmetic; going through RGB instead
//! would cost two lossy colour conversions for nothing.

use std::io::Cursor;
use std::time::Duration;

use yuvutils_rs::{
    BufferStoreMut, YuvConversionMode, YuvPackedImage, YuvPlanarImageMut, YuvRange,
    YuvStandardMatrix,
};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::{DeviceError, VideoFrame};

/// The picture formats cameras send that we convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// Packed 4:2:2, Y0 U Y1 V.
    Yuyv,
    /// Y plane, then one plane of interleaved U V at quarter size.
    Nv12,
    /// A JPEG image per frame.
    Mjpeg,
    /// Packed 8-bit R G B.
    Rgb,
}

/// Converts one camera picture of `width`×`height` to an I420 frame.
pub fn to_i420(
    format: PixelFormat,
    data: &[u8],
    width: u32,
    height: u32,
    timestamp: Duration,
) -> Result<VideoFrame, DeviceError> {
    match format {
        PixelFormat::Yuyv => yuyv_to_i420(data, width, height, timestamp),
        PixelFormat::Nv12 => nv12_to_i420(data, width, height, timestamp),
        PixelFormat::Mjpeg => mjpeg_to_i420(data, timestamp),
        PixelFormat::Rgb => rgb_to_i420(data, width, height, timestamp),
    }
}

fn blank(format: &str, width: u32, height: u32, t: Duration) -> Result<VideoFrame, DeviceError> {
    VideoFrame::black(width, height, t).map_err(|e| conversion(format, e))
}

fn conversion(format: &str, reason: impl std::fmt::Display) -> DeviceError {
    DeviceError::Conversion {
        format: format.to_owned(),
        reason: reason.to_string(),
    }
}

/// Writable yuvutils view of a frame's three planes.
fn planar_view(frame: &mut VideoFrame) -> YuvPlanarImageMut<'_, u8> {
    let (width, height) = (frame.width(), frame.height());
    let (y, u, v) = frame.planes_mut();
    YuvPlanarImageMut {
        y_plane: BufferStoreMut::Borrowed(y),
        y_stride: width,
        u_plane: BufferStoreMut::Borrowed(u),
        u_stride: width / 2,
        v_plane: BufferStoreMut::Borrowed(v),
        v_stride: width / 2,
        width,
        height,
    }
}

/// Rows may be padded (V4L2's bytesperline); works out the stride in bytes.
fn stride_of(data: &[u8], rows: u32, min: u32, format: &str) -> Result<u32, DeviceError> {
    let stride = if rows == 0 {
        0
    } else {
        data.len() / rows as usize
    };
    if stride < min as usize {
        return Err(conversion(
            format,
            format!("{} bytes is too short for {rows} rows of {min}", data.len()),
        ));
    }
    u32::try_from(stride).map_err(|e| conversion(format, e))
}

pub fn yuyv_to_i420(
    data: &[u8],
    width: u32,
    height: u32,
    t: Duration,
) -> Result<VideoFrame, DeviceError> {
    let tight = width as usize * 2;
    let stride = stride_of(data, height, width * 2, "YUYV")? as usize;
    // yuvutils-rs 0.8.3 refuses packed rows with padding, so drop it first.
    let compact: Vec<u8>;
    let data = if stride == tight {
        &data[..tight * height as usize]
    } else {
        compact = data
            .chunks(stride)
            .flat_map(|row| &row[..tight])
            .copied()
            .collect();
        &compact
    };
    let mut frame = blank("YUYV", width, height, t)?;
    let packed = YuvPackedImage {
        yuy: data,
        yuy_stride: width * 2,
        width,
        height,
    };
    yuvutils_rs::yuyv422_to_yuv420(&mut planar_view(&mut frame), &packed)
        .map_err(|e| conversion("YUYV", e))?;
    Ok(frame)
}

pub fn nv12_to_i420(
    data: &[u8],
    width: u32,
    height: u32,
    t: Duration,
) -> Result<VideoFrame, DeviceError> {
    let (w, h) = (width as usize, height as usize);
    // NV12 has height × 1.5 rows of `stride` bytes.
    let stride = stride_of(data, height + height / 2, width, "NV12")? as usize;
    let mut frame = blank("NV12", width, height, t)?;
    let (y, u, v) = frame.planes_mut();
    for (dst, src) in y.chunks_exact_mut(w).zip(data.chunks(stride)) {
        dst.copy_from_slice(&src[..w]);
    }
    let chroma_rows = data[stride * h..].chunks(stride);
    let out_rows = u.chunks_exact_mut(w / 2).zip(v.chunks_exact_mut(w / 2));
    for ((u_row, v_row), src) in out_rows.zip(chroma_rows) {
        for ((u_px, v_px), pair) in u_row.iter_mut().zip(v_row).zip(src.chunks_exact(2)) {
            *u_px = pair[0];
            *v_px = pair[1];
        }
    }
    Ok(frame)
}

pub fn rgb_to_i420(
    data: &[u8],
    width: u32,
    height: u32,
    t: Duration,
) -> Result<VideoFrame, DeviceError> {
    let stride = stride_of(data, height, width * 3, "RGB")?;
    let mut frame = blank("RGB", width, height, t)?;
    // VP8 and browsers expect BT.601 studio range from a webcam.
    yuvutils_rs::rgb_to_yuv420(
        &mut planar_view(&mut frame),
        data,
        stride,
        YuvRange::Limited,
        YuvStandardMatrix::Bt601,
        YuvConversionMode::Balanced,
    )
    .map_err(|e| conversion("RGB", e))?;
    Ok(frame)
}

/// Decodes a JPEG to RGB, then to I420. Odd sizes lose their last column or
/// row, since I420 needs even dimensions.
pub fn mjpeg_to_i420(data: &[u8], t: Duration) -> Result<VideoFrame, DeviceError> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(Cursor::new(data), options);
    let rgb = decoder.decode().map_err(|e| conversion("MJPEG", e))?;
    let info = decoder
        .info()
        .ok_or_else(|| conversion("MJPEG", "no image header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (even_w, even_h) = (width & !1, height & !1);
    if even_w == 0 || even_h == 0 {
        return Err(conversion(
            "MJPEG",
            format!("{width}x{height} is too small"),
        ));
    }
    let rows = rgb.chunks_exact(width as usize * 3).take(even_h as usize);
    let cropped: Vec<u8> = if even_w == width {
        rgb[..(width * even_h * 3) as usize].to_vec()
    } else {
        rows.flat_map(|row| &row[..even_w as usize * 3])
            .copied()
            .collect()
    };
    rgb_to_i420(&cropped, even_w, even_h, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BT.601 limited-range Y, U, V of pure colours (rounded).
    const RED: [u8; 3] = [81, 90, 240];
    const GREEN: [u8; 3] = [145, 54, 34];
    const BLUE: [u8; 3] = [41, 240, 110];

    fn assert_close(frame: &VideoFrame, yuv: [u8; 3], tolerance: u8) {
        let (y, u, v) = frame.planes();
        for (plane, want, name) in [(y, yuv[0], "Y"), (u, yuv[1], "U"), (v, yuv[2], "V")] {
            for &got in plane {
                assert!(
                    got.abs_diff(want) <= tolerance,
                    "{name}: got {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn yuyv_of_a_known_colour_keeps_its_values() {
        let (w, h) = (16u32, 8u32);
        let [y, u, v] = RED;
        let data: Vec<u8> = std::iter::repeat_n([y, u, y, v], (w * h / 2) as usize)
            .flatten()
            .collect();
        let frame = yuyv_to_i420(&data, w, h, Duration::ZERO).unwrap();
        assert_close(&frame, RED, 0);
    }

    #[test]
    fn yuyv_with_padded_rows_and_two_colours_keeps_each_half() {
        let (w, h, stride) = (8u32, 4u32, 24usize);
        let mut data = vec![0u8; stride * h as usize];
        for row in data.chunks_exact_mut(stride) {
            for (i, px) in row[..16].chunks_exact_mut(4).enumerate() {
                let [y, u, v] = if i < 2 { GREEN } else { BLUE };
                px.copy_from_slice(&[y, u, y, v]);
            }
        }
        let frame = yuyv_to_i420(&data, w, h, Duration::ZERO).unwrap();
        let (y, u, _) = frame.planes();
        assert_eq!((y[0], y[7]), (GREEN[0], BLUE[0]));
        assert_eq!((u[0], u[3]), (GREEN[1], BLUE[1]));
    }

    #[test]
    fn nv12_of_a_known_colour_keeps_its_values() {
        let (w, h) = (8usize, 6usize);
        let [y, u, v] = GREEN;
        let mut data = vec![y; w * h];
        data.extend(std::iter::repeat_n([u, v], w * h / 4).flatten());
        let frame = nv12_to_i420(&data, w as u32, h as u32, Duration::from_millis(5)).unwrap();
        assert_close(&frame, GREEN, 0);
        assert_eq!(frame.timestamp, Duration::from_millis(5));
    }

    #[test]
    fn rgb_primaries_land_on_bt601_values() {
        for (rgb, yuv) in [
            ([255, 0, 0], RED),
            ([0, 255, 0], GREEN),
            ([0, 0, 255], BLUE),
        ] {
            let data: Vec<u8> = std::iter::repeat_n(rgb, 16 * 16).flatten().collect();
            let frame = rgb_to_i420(&data, 16, 16, Duration::ZERO).unwrap();
            assert_close(&frame, yuv, 2);
        }
    }

    #[test]
    fn short_buffers_are_refused_not_read_past() {
        let err = yuyv_to_i420(&[0; 10], 16, 8, Duration::ZERO).unwrap_err();
        assert!(matches!(err, DeviceError::Conversion { .. }), "{err}");
        assert!(nv12_to_i420(&[0; 10], 16, 8, Duration::ZERO).is_err());
        assert!(mjpeg_to_i420(b"not a jpeg", Duration::ZERO).is_err());
    }
}
