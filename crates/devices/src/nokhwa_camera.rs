//! Cameras through nokhwa (V4L2, AVFoundation, Media Foundation).
//!
//! nokhwa's camera object is not `Send`, so it lives on its capture thread
//! from open to close; [`Camera::start`] waits for that thread to report
//! whether the device opened, so errors still come back from `start`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Instant;

use nokhwa::utils::{
    ApiBackend, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use crate::convert::{PixelFormat, to_i420};
use crate::{
    Camera, CameraFormat, DeviceError, DeviceId, DeviceInfo, DeviceKind, FrameReceiver,
    FrameSender, VideoFrame, frame_channel,
};

/// The formats we can convert, best first: MJPEG carries the most pixels
/// over USB 2, YUYV and NV12 need no decoding.
const WANTED: [FrameFormat; 4] = [
    FrameFormat::MJPEG,
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::RAWRGB,
];

fn backend() -> ApiBackend {
    nokhwa::native_api_backend().unwrap_or(ApiBackend::Auto)
}

/// Cameras the system has; the first is the default (no platform names one).
pub fn list_cameras() -> Result<Vec<DeviceInfo>, DeviceError> {
    let cameras =
        nokhwa::query(backend()).map_err(|e| DeviceError::CameraBackend(e.to_string()))?;
    Ok(cameras
        .iter()
        .enumerate()
        .map(|(i, c)| DeviceInfo {
            id: DeviceId(c.index().as_string()),
            name: c.human_name(),
            kind: DeviceKind::Camera,
            is_default: i == 0,
        })
        .collect())
}

/// A camera delivering I420 whatever it sends.
#[derive(Debug)]
pub struct NokhwaCamera {
    info: DeviceInfo,
    requested: CameraFormat,
    actual: CameraFormat,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl NokhwaCamera {
    /// Opens `id`, or the first camera. With no camera at all this is
    /// [`DeviceError::NoneFound`]: "no camera found".
    pub fn open(id: Option<&DeviceId>, format: CameraFormat) -> Result<Self, DeviceError> {
        let cameras = list_cameras()?;
        let info = match id {
            None => cameras
                .into_iter()
                .next()
                .ok_or(DeviceError::NoneFound(DeviceKind::Camera))?,
            Some(id) => cameras.into_iter().find(|c| &c.id == id).ok_or_else(|| {
                DeviceError::Disappeared {
                    kind: DeviceKind::Camera,
                    name: id.to_string(),
                }
            })?,
        };
        Ok(Self {
            info,
            requested: format,
            actual: format,
            running: None,
        })
    }
}

impl Camera for NokhwaCamera {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn format(&self) -> CameraFormat {
        self.actual
    }

    fn start(&mut self) -> Result<FrameReceiver<VideoFrame>, DeviceError> {
        self.stop();
        let (tx, rx) = frame_channel(1);
        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let (info, requested, flag) = (self.info.clone(), self.requested, Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || capture(&info, requested, &tx, &flag, &opened_tx))
            .map_err(|e| DeviceError::Thread(e.to_string()))?;
        match opened_rx.recv() {
            Ok(Ok(actual)) => {
                self.actual = actual;
                self.running = Some((stop, thread));
                Ok(rx)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(DeviceError::CameraBackend(
                "the capture thread ended".into(),
            )),
        }
    }

    fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            // The thread notices within one frame; a panic there has
            // already been reported and the receiver ends either way.
            let _ = thread.join();
        }
    }
}

impl Drop for NokhwaCamera {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Opens the camera and streams it until stopped or failed.
fn capture(
    info: &DeviceInfo,
    requested: CameraFormat,
    tx: &FrameSender<VideoFrame>,
    stop: &AtomicBool,
    opened: &mpsc::SyncSender<Result<CameraFormat, DeviceError>>,
) {
    let mut camera = match open_stream(info, requested) {
        Ok(camera) => camera,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let format = camera.camera_format();
    let pixel = match pixel_format(format.format()) {
        Ok(pixel) => pixel,
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    let (width, height) = (format.resolution().width(), format.resolution().height());
    let actual = CameraFormat {
        width: width & !1,
        height: height & !1,
        fps: format.frame_rate(),
    };
    let _ = opened.send(Ok(actual));
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let raw = match camera.frame_raw() {
            Ok(raw) => raw,
            Err(e) => {
                tx.fail(map_error(&e, info));
                return;
            }
        };
        match to_i420(pixel, &raw, actual.width, actual.height, start.elapsed()) {
            Ok(frame) => tx.send(frame),
            // One corrupt MJPEG frame is common on USB; skip it.
            Err(_) => continue,
        }
    }
    let _ = camera.stop_stream();
}

fn open_stream(info: &DeviceInfo, want: CameraFormat) -> Result<nokhwa::Camera, DeviceError> {
    let index = match info.id.0.parse::<u32>() {
        Ok(n) => CameraIndex::Index(n),
        Err(_) => CameraIndex::String(info.id.0.clone()),
    };
    let closest = nokhwa::utils::CameraFormat::new(
        Resolution::new(want.width, want.height),
        FrameFormat::MJPEG,
        want.fps,
    );
    let request = RequestedFormat::with_formats(RequestedFormatType::Closest(closest), &WANTED);
    let mut camera = nokhwa::Camera::new(index, request).map_err(|e| map_error(&e, info))?;
    camera.open_stream().map_err(|e| map_error(&e, info))?;
    Ok(camera)
}

fn pixel_format(format: FrameFormat) -> Result<PixelFormat, DeviceError> {
    match format {
        FrameFormat::MJPEG => Ok(PixelFormat::Mjpeg),
        FrameFormat::YUYV => Ok(PixelFormat::Yuyv),
        FrameFormat::NV12 => Ok(PixelFormat::Nv12),
        FrameFormat::RAWRGB => Ok(PixelFormat::Rgb),
        other => Err(DeviceError::CameraBackend(format!(
            "unexpected pixel format {other}"
        ))),
    }
}

/// nokhwa reports OS errors as text; the OS's wording is all there is to go on.
fn map_error(e: &nokhwa::NokhwaError, info: &DeviceInfo) -> DeviceError {
    let text = e.to_string();
    let (kind, name) = (DeviceKind::Camera, info.name.clone());
    if text.contains("No such file") || text.contains("No such device") {
        DeviceError::Disappeared { kind, name }
    } else if text.contains("busy") {
        DeviceError::Busy { kind, name }
    } else if text.contains("Permission denied") {
        DeviceError::PermissionDenied { kind, name }
    } else {
        DeviceError::CameraBackend(text)
    }
}
