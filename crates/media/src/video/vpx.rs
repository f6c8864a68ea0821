//! The only unsafe code in the crate: a thin, owned wrapper over libvpx's
//! VP8 encoder and decoder (through `env-libvpx-sys`, linked to the system
//! libvpx). Everything above this module is safe Rust.
//!
//! The contexts are boxed because libvpx keeps pointers into them (the
//! encoder's config pointer lives inside `vpx_codec_ctx`), so they must not
//! move after initialisation.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_long, c_uint, c_ulong};
use std::mem::MaybeUninit;

use vpx_sys::{
    vp8_dec_control_id, vp8e_enc_control_id, vpx_codec_ctx_t, vpx_codec_cx_pkt_kind,
    vpx_codec_dec_cfg_t, vpx_codec_enc_cfg_t, vpx_codec_err_t, vpx_image_t, vpx_img_fmt,
};

use super::VideoError;
use crate::frame::VideoFrame;

/// Turns a libvpx status into our error, with libvpx's own detail text.
fn check(
    ctx: Option<&mut vpx_codec_ctx_t>,
    err: vpx_codec_err_t,
    op: &'static str,
) -> Result<(), VideoError> {
    if err == vpx_codec_err_t::VPX_CODEC_OK {
        return Ok(());
    }
    // SAFETY: vpx_codec_err_to_string returns a pointer to a static,
    // NUL-terminated string for every code, including unknown ones.
    let mut detail = unsafe { CStr::from_ptr(vpx_sys::vpx_codec_err_to_string(err)) }
        .to_string_lossy()
        .into_owned();
    if let Some(ctx) = ctx {
        // SAFETY: ctx is an initialised context (or one whose init failed,
        // which libvpx documents as still valid for vpx_codec_error_detail);
        // the returned pointer is either null or a NUL-terminated string
        // owned by the context, copied before the context is used again.
        let extra = unsafe { vpx_sys::vpx_codec_error_detail(ctx) };
        if !extra.is_null() {
            // SAFETY: non-null, NUL-terminated, alive while ctx is borrowed.
            let extra = unsafe { CStr::from_ptr(extra) }.to_string_lossy();
            detail = format!("{detail}: {extra}");
        }
    }
    Err(VideoError::Codec { op, detail })
}

/// Encoder settings that libvpx needs at init time; see `encoder.rs` for
/// the reasons behind each value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEncoderConfig {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) bitrate_kbps: u32,
    pub(crate) max_fps: u32,
    pub(crate) threads: u32,
    pub(crate) cpu_used: i32,
    pub(crate) error_resilient: bool,
}

/// One libvpx VP8 encoder context.
pub(crate) struct RawEncoder {
    ctx: Box<vpx_codec_ctx_t>,
    cfg: Box<vpx_codec_enc_cfg_t>,
}

// SAFETY: the context is owned exclusively by this value and libvpx keeps
// no thread-local state for it; moving it between threads is allowed, using
// it from two at once is prevented by `&mut self` on every call.
unsafe impl Send for RawEncoder {}

impl std::fmt::Debug for RawEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEncoder")
            .field("width", &self.cfg.g_w)
            .field("height", &self.cfg.g_h)
            .field("bitrate_kbps", &self.cfg.rc_target_bitrate)
            .finish()
    }
}

impl RawEncoder {
    pub(crate) fn new(c: &RawEncoderConfig) -> Result<Self, VideoError> {
        let mut cfg = MaybeUninit::<vpx_codec_enc_cfg_t>::zeroed();
        // SAFETY: vpx_codec_vp8_cx returns a static interface; cfg points to
        // writable memory of the right type, which the call fills in full.
        let err = unsafe {
            vpx_sys::vpx_codec_enc_config_default(vpx_sys::vpx_codec_vp8_cx(), cfg.as_mut_ptr(), 0)
        };
        check(None, err, "vpx_codec_enc_config_default")?;
        // SAFETY: initialised by the successful call above (and zeroed before).
        let mut cfg = Box::new(unsafe { cfg.assume_init() });
        apply_rtc_config(&mut cfg, c);

        // SAFETY: an all-zero vpx_codec_ctx is the documented "not yet
        // initialised" state that vpx_codec_enc_init_ver expects.
        let mut ctx: Box<vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // SAFETY: ctx and cfg are valid, boxed (stable addresses) and outlive
        // the encoder; the ABI version is the one the bindings were made for.
        let err = unsafe {
            vpx_sys::vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx_sys::vpx_codec_vp8_cx(),
                &*cfg,
                0,
                vpx_sys::VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        check(Some(&mut ctx), err, "vpx_codec_enc_init")?;
        let mut enc = Self { ctx, cfg };
        let max_intra_pct = (enc.cfg.rc_buf_optimal_sz / 2 * c.max_fps / 10).max(300);
        let controls = [
            (vp8e_enc_control_id::VP8E_SET_CPUUSED, c.cpu_used),
            (vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1),
            (vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0),
            (vp8e_enc_control_id::VP8E_SET_TOKEN_PARTITIONS, 0),
            (
                vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT,
                max_intra_pct as i32,
            ),
        ];
        for (id, value) in controls {
            enc.control(id, value)?;
        }
        Ok(enc)
    }

    fn control(&mut self, id: vp8e_enc_control_id, value: i32) -> Result<(), VideoError> {
        // SAFETY: every VP8E_SET_* id used here takes one `int` vararg, as
        // declared in vp8cx.h; ctx is initialised.
        let err =
            unsafe { vpx_sys::vpx_codec_control_(&mut *self.ctx, id as c_int, value as c_int) };
        check(Some(&mut self.ctx), err, "vpx_codec_control")
    }

    /// Changes the CBR target; libvpx applies it from the next frame.
    pub(crate) fn set_bitrate(&mut self, kbps: u32) -> Result<(), VideoError> {
        self.cfg.rc_target_bitrate = kbps;
        // SAFETY: ctx is initialised and cfg is a valid config for it.
        let err = unsafe { vpx_sys::vpx_codec_enc_config_set(&mut *self.ctx, &*self.cfg) };
        check(Some(&mut self.ctx), err, "vpx_codec_enc_config_set")
    }

    /// Encodes one frame (pts and duration in milliseconds) and appends the
    /// compressed frame to `out`. Returns `Some(is_keyframe)`, or `None`
    /// when rate control dropped the frame.
    pub(crate) fn encode(
        &mut self,
        frame: &VideoFrame,
        pts_ms: i64,
        duration_ms: u32,
        force_keyframe: bool,
        out: &mut Vec<u8>,
    ) -> Result<Option<bool>, VideoError> {
        if frame.width() != self.cfg.g_w || frame.height() != self.cfg.g_h {
            return Err(VideoError::WrongSize {
                expected: (self.cfg.g_w, self.cfg.g_h),
                got: (frame.width(), frame.height()),
            });
        }
        let mut storage = MaybeUninit::<vpx_image_t>::zeroed();
        // SAFETY: storage is writable and lives to the end of this function; the frame's buffer holds a packed I420
        // picture of exactly g_w x g_h (checked above, even sizes guaranteed
        // by VideoFrame), which is the layout vpx_img_wrap computes with a
        // stride alignment of 1. The encoder only reads the planes, so the
        // cast from a shared to a mut pointer is never written through, and
        // the image does not outlive `frame` (used only within this call).
        let img = unsafe {
            vpx_sys::vpx_img_wrap(
                storage.as_mut_ptr(),
                vpx_img_fmt::VPX_IMG_FMT_I420,
                frame.width(),
                frame.height(),
                1,
                frame.data().as_ptr().cast_mut(),
            )
        };
        if img.is_null() {
            return Err(VideoError::Codec {
                op: "vpx_img_wrap",
                detail: "refused the frame".into(),
            });
        }
        let flags = if force_keyframe {
            vpx_sys::VPX_EFLAG_FORCE_KF as c_long
        } else {
            0
        };
        // SAFETY: ctx is initialised, img points to a wrapped image valid for
        // this call; libvpx copies what it keeps (lag_in_frames is 0).
        let err = unsafe {
            vpx_sys::vpx_codec_encode(
                &mut *self.ctx,
                img,
                pts_ms,
                c_ulong::from(duration_ms),
                flags,
                c_ulong::from(vpx_sys::VPX_DL_REALTIME),
            )
        };
        check(Some(&mut self.ctx), err, "vpx_codec_encode")?;
        self.drain(out)
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> Result<Option<bool>, VideoError> {
        let mut iter: vpx_sys::vpx_codec_iter_t = std::ptr::null();
        let mut key = None;
        loop {
            // SAFETY: ctx is initialised; iter starts null and is advanced by
            // libvpx only. The packet stays valid until the next encode call.
            let pkt = unsafe { vpx_sys::vpx_codec_get_cx_data(&mut *self.ctx, &mut iter) };
            if pkt.is_null() {
                return Ok(key);
            }
            // SAFETY: non-null packets returned by libvpx are valid to read.
            let pkt = unsafe { &*pkt };
            if pkt.kind != vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            // SAFETY: kind is FRAME_PKT, so `frame` is the active union field,
            // and buf points to sz readable bytes owned by the encoder.
            let data = unsafe {
                let f = pkt.data.frame;
                std::slice::from_raw_parts(f.buf.cast::<u8>(), f.sz as usize)
            };
            out.extend_from_slice(data);
            // SAFETY: as above, `frame` is the active field.
            let flags = unsafe { pkt.data.frame.flags };
            key = Some(key.unwrap_or(false) || flags & vpx_sys::VPX_FRAME_IS_KEY != 0);
        }
    }
}

impl Drop for RawEncoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in new() and is destroyed exactly once.
        unsafe { vpx_sys::vpx_codec_destroy(&mut *self.ctx) };
    }
}

/// Real-time settings modelled on WebRTC's libvpx VP8 wrapper.
fn apply_rtc_config(cfg: &mut vpx_codec_enc_cfg_t, c: &RawEncoderConfig) {
    cfg.g_w = c.width;
    cfg.g_h = c.height;
    cfg.g_threads = c.threads;
    cfg.g_timebase = vpx_sys::vpx_rational { num: 1, den: 1000 };
    cfg.g_lag_in_frames = 0;
    cfg.g_error_resilient = if c.error_resilient {
        vpx_sys::VPX_ERROR_RESILIENT_DEFAULT
    } else {
        0
    };
    cfg.rc_end_usage = vpx_sys::vpx_rc_mode::VPX_CBR;
    cfg.rc_target_bitrate = c.bitrate_kbps;
    cfg.rc_dropframe_thresh = 30;
    cfg.rc_resize_allowed = 0;
    cfg.rc_min_quantizer = 2;
    cfg.rc_max_quantizer = 56;
    cfg.rc_undershoot_pct = 100;
    cfg.rc_overshoot_pct = 15;
    cfg.rc_buf_initial_sz = 500;
    cfg.rc_buf_optimal_sz = 600;
    cfg.rc_buf_sz = 1000;
    cfg.kf_mode = vpx_sys::vpx_kf_mode::VPX_KF_AUTO;
    cfg.kf_max_dist = 3000;
}

/// One libvpx VP8 decoder context.
pub(crate) struct RawDecoder {
    ctx: Box<vpx_codec_ctx_t>,
}

// SAFETY: as for RawEncoder: exclusively owned, used through `&mut self`.
unsafe impl Send for RawDecoder {}

impl std::fmt::Debug for RawDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawDecoder")
    }
}

/// A decoded picture, borrowed from the decoder until its next call.
pub(crate) struct DecodedImage<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Y, U, V rows with their strides.
    pub(crate) planes: [(&'a [u8], usize); 3],
}

impl RawDecoder {
    pub(crate) fn new() -> Result<Self, VideoError> {
        // SAFETY: all-zero is the uninitialised state init expects.
        let mut ctx: Box<vpx_codec_ctx_t> =
            Box::new(unsafe { MaybeUninit::zeroed().assume_init() });
        // One thread: a receiver decodes up to nine streams, one per thread
        // at most, and VP8 decode threading needs token partitions anyway.
        let cfg = vpx_codec_dec_cfg_t {
            threads: 1,
            w: 0,
            h: 0,
        };
        // SAFETY: ctx is boxed and zeroed, cfg is valid for the call (libvpx
        // copies it), the ABI version matches the bindings.
        let err = unsafe {
            vpx_sys::vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx_sys::vpx_codec_vp8_dx(),
                &cfg,
                0,
                vpx_sys::VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        check(Some(&mut ctx), err, "vpx_codec_dec_init")?;
        Ok(Self { ctx })
    }

    /// Decodes one compressed frame; the picture is then read with `frame`.
    pub(crate) fn decode(&mut self, data: &[u8]) -> Result<(), VideoError> {
        let len = c_uint::try_from(data.len()).map_err(|_| VideoError::Codec {
            op: "vpx_codec_decode",
            detail: "packet larger than 4 GiB".into(),
        })?;
        // SAFETY: ctx is initialised; data is readable for len bytes during
        // the call and libvpx does not keep the pointer after it returns.
        let err = unsafe {
            vpx_sys::vpx_codec_decode(&mut *self.ctx, data.as_ptr(), len, std::ptr::null_mut(), 0)
        };
        check(Some(&mut self.ctx), err, "vpx_codec_decode")
    }

    /// Whether libvpx saw the last frame reference corrupt data.
    pub(crate) fn last_frame_corrupted(&mut self) -> Result<bool, VideoError> {
        let mut corrupted: c_int = 0;
        // SAFETY: VP8D_GET_FRAME_CORRUPTED takes one `int *` vararg, which
        // points to a live local for the duration of the call.
        let err = unsafe {
            vpx_sys::vpx_codec_control_(
                &mut *self.ctx,
                vp8_dec_control_id::VP8D_GET_FRAME_CORRUPTED as c_int,
                &mut corrupted as *mut c_int,
            )
        };
        check(Some(&mut self.ctx), err, "VP8D_GET_FRAME_CORRUPTED")?;
        Ok(corrupted != 0)
    }

    /// The picture produced by the last `decode`, if any.
    pub(crate) fn frame(&mut self) -> Option<DecodedImage<'_>> {
        let mut iter: vpx_sys::vpx_codec_iter_t = std::ptr::null();
        // SAFETY: ctx is initialised; iter starts null.
        let img = unsafe { vpx_sys::vpx_codec_get_frame(&mut *self.ctx, &mut iter) };
        if img.is_null() {
            return None;
        }
        // SAFETY: a non-null image stays valid until the next decode call,
        // which needs `&mut self` and so cannot happen while the returned
        // borrow of self lives.
        let img = unsafe { &*img };
        if img.fmt != vpx_img_fmt::VPX_IMG_FMT_I420 {
            return None;
        }
        let (w, h) = (img.d_w, img.d_h);
        let plane = |i: usize, rows: u32| {
            let stride = img.stride[i] as usize;
            // SAFETY: libvpx's I420 image has `rows` rows of `stride` bytes
            // from planes[i] (the last row may be only as long as the
            // visible width, so the slice ends there).
            let len = stride * (rows as usize - 1)
                + if i == 0 {
                    w as usize
                } else {
                    w.div_ceil(2) as usize
                };
            (
                unsafe { std::slice::from_raw_parts(img.planes[i], len) },
                stride,
            )
        };
        let ch = h.div_ceil(2);
        Some(DecodedImage {
            width: w,
            height: h,
            planes: [plane(0, h), plane(1, ch), plane(2, ch)],
        })
    }
}

impl Drop for RawDecoder {
    fn drop(&mut self) {
        // SAFETY: ctx was initialised in new() and is destroyed exactly once.
        unsafe { vpx_sys::vpx_codec_destroy(&mut *self.ctx) };
    }
}
