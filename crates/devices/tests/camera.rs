//! Cameras through nokhwa, and MJPEG decoding.

use std::time::Duration;

use confab_devices::convert::mjpeg_to_i420;
use confab_devices::nokhwa_camera::{NokhwaCamera, list_cameras};
use confab_devices::{CameraFormat, DeviceCatalog, DeviceError, DeviceKind, SystemCatalog};

#[test]
fn with_no_camera_opening_the_default_says_no_camera_found() {
    // Only meaningful where there is no camera, as on CI; a developer's
    // machine with a webcam skips the assertion rather than failing.
    if !list_cameras().unwrap().is_empty() {
        return;
    }
    let err = SystemCatalog::new()
        .open_camera(None, CameraFormat::default())
        .unwrap_err();
    assert_eq!(err, DeviceError::NoneFound(DeviceKind::Camera));
    assert_eq!(err.to_string(), "no camera found");
    assert!(err.is_user_facing());
    let by_id = NokhwaCamera::open(
        Some(&confab_devices::DeviceId("0".into())),
        CameraFormat::default(),
    );
    assert!(matches!(
        by_id,
        Err(DeviceError::Disappeared {
            kind: DeviceKind::Camera,
            ..
        })
    ));
}

#[test]
fn mjpeg_of_a_flat_colour_decodes_to_its_i420_values() {
    // 18×10 also checks that odd-free cropping keeps even sizes.
    let (w, h) = (18u32, 10u32);
    let rgb: Vec<u8> = std::iter::repeat_n([255u8, 0, 0], (w * h) as usize)
        .flatten()
        .collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    let frame = mjpeg_to_i420(&jpeg, Duration::from_millis(7)).unwrap();
    assert_eq!((frame.width(), frame.height()), (w, h));
    assert_eq!(frame.timestamp, Duration::from_millis(7));
    let (y, u, v) = frame.planes();
    // Pure red in BT.601 studio range is Y 81, U 90, V 240; JPEG adds a little error.
    let close = |plane: &[u8], want: u8| plane.iter().all(|&p| p.abs_diff(want) <= 4);
    assert!(
        close(y, 81) && close(u, 90) && close(v, 240),
        "{:?}",
        (y[0], u[0], v[0])
    );
}

#[test]
#[ignore = "needs a camera"]
fn default_camera_delivers_i420_frames() {
    let catalog = SystemCatalog::new();
    let mut camera = catalog
        .open_camera(
            None,
            CameraFormat {
                width: 640,
                height: 480,
                fps: 30,
            },
        )
        .unwrap();
    let rx = camera.start().unwrap();
    let format = camera.format();
    for _ in 0..10 {
        let frame = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(
            (frame.width(), frame.height()),
            (format.width, format.height)
        );
    }
    camera.stop();
}
