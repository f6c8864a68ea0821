use std::sync::Mutex;
use std::time::Instant;

use super::*;

#[derive(Default)]
struct Recorded {
    levels: Mutex<Vec<f32>>,
    changes: Mutex<Vec<(DeviceKind, DeviceState)>>,
}

impl PreviewEvents for Recorded {
    fn level(&self, level: f32) {
        self.levels.lock().unwrap().push(level);
    }
    fn device_changed(&self, kind: DeviceKind, state: DeviceState) {
        self.changes.lock().unwrap().push((kind, state));
    }
}

fn preview(fakes: FakeDevices) -> (Preview, Arc<FrameHub>, Arc<Recorded>, FakeCatalog) {
    let catalog = fakes.catalog();
    let (hub, events) = (FrameHub::new(), Arc::new(Recorded::default()));
    let preview = Preview::new(Arc::new(catalog.clone()), Arc::clone(&hub), events.clone());
    (preview, hub, events, catalog)
}

fn all_fakes() -> FakeDevices {
    FakeDevices::parse(Some("1")).unwrap().unwrap()
}

/// Waits, bounded, until `done` holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_fake_devices_variable_is_read_and_a_typo_is_refused_with_the_options() {
    assert_eq!(FakeDevices::parse(None), Ok(None));
    assert_eq!(FakeDevices::parse(Some("")), Ok(None));
    assert_eq!(FakeDevices::parse(Some("0")), Ok(None));
    assert_eq!(
        FakeDevices::parse(Some("no-camera, microphone-busy")),
        Ok(Some(FakeDevices {
            camera: false,
            microphone: true,
            microphone_busy: true
        }))
    );
    let err = FakeDevices::parse(Some("no-cam")).unwrap_err().to_string();
    assert!(
        err.contains("\"no-cam\"") && err.contains("no-camera"),
        "{err}"
    );
}

#[test]
fn device_problems_read_as_a_sentence_with_a_way_forward() {
    assert_eq!(
        problem_sentence(
            DeviceKind::Camera,
            &DeviceError::NoneFound(DeviceKind::Camera)
        ),
        "No camera found — you can join without video."
    );
    let busy = DeviceError::Busy {
        kind: DeviceKind::Microphone,
        name: "USB Mic".into(),
    };
    assert_eq!(
        problem_sentence(DeviceKind::Microphone, &busy),
        "The microphone “USB Mic” is in use by another program — close that program, \
         or pick another microphone."
    );
    let internal = DeviceError::AudioBackend("snd_pcm_open: -5".into());
    let sentence = problem_sentence(DeviceKind::Speaker, &internal);
    assert!(sentence.ends_with("— pick another speaker."), "{sentence}");
}

#[test]
fn the_camera_preview_publishes_test_pattern_frames_on_the_self_stream() {
    let (mut preview, hub, _, _) = preview(all_fakes());
    let state = preview.start_camera(None);
    assert_eq!(state.status, DeviceStatus::On);
    assert_eq!(state.device.as_deref(), Some("Test pattern camera"));
    let frames = hub.subscribe(SELF_STREAM);
    eventually("two frames", || {
        frames.borrow().as_ref().is_some_and(|(n, _)| *n >= 1)
    });
    let frame = frames.borrow().as_ref().unwrap().1.clone();
    assert_eq!((frame.width(), frame.height()), (1280, 720));
    assert!(confab_media::synth::video::read_stamp(&frame).is_some());
    preview.stop_camera();
    assert!(
        frames.borrow().is_none(),
        "a stopped camera leaves no stale picture"
    );
}

#[test]
fn without_a_camera_the_preview_says_so_and_the_microphone_still_runs() {
    let fakes = FakeDevices::parse(Some("no-camera")).unwrap().unwrap();
    let (mut preview, _, events, _) = preview(fakes);
    let camera = preview.start_camera(None);
    assert_eq!(camera.status, DeviceStatus::Failed);
    assert_eq!(
        camera.problem.as_deref(),
        Some("No camera found — you can join without video.")
    );
    assert_eq!(preview.start_microphone(None).status, DeviceStatus::On);
    eventually("levels", || events.levels.lock().unwrap().len() >= 3);
    let loudest = events
        .levels
        .lock()
        .unwrap()
        .iter()
        .copied()
        .fold(0.0, f32::max);
    assert!(
        loudest > 0.5,
        "babble at 0.3 reads about -10 dBFS, got {loudest}"
    );
}

#[test]
fn a_microphone_held_by_another_program_fails_with_the_busy_sentence() {
    let fakes = FakeDevices::parse(Some("microphone-busy"))
        .unwrap()
        .unwrap();
    let (mut preview, _, _, _) = preview(fakes);
    let state = preview.start_microphone(None);
    assert_eq!(state.status, DeviceStatus::Failed);
    let problem = state.problem.unwrap();
    assert!(
        problem.starts_with("The microphone “Babbling microphone” is in use by another program"),
        "{problem}"
    );
}

#[test]
fn unplugging_the_camera_during_the_preview_is_reported_as_it_happens() {
    let (mut preview, _, events, catalog) = preview(all_fakes());
    preview.start_camera(None);
    let id = catalog.devices(DeviceKind::Camera).unwrap()[0].id.clone();
    catalog.unplug(&id);
    eventually("the change", || !events.changes.lock().unwrap().is_empty());
    let (kind, state) = events.changes.lock().unwrap()[0].clone();
    assert_eq!(kind, DeviceKind::Camera);
    assert_eq!(state.status, DeviceStatus::Failed);
    assert!(state.problem.unwrap().contains("was unplugged"));
}

#[test]
fn the_level_meter_reads_peaks_every_50_ms_on_a_60_db_scale() {
    let mut meter = LevelMeter::default();
    assert_eq!(meter.push(&[0.0; 480]), None);
    let mut quiet = None;
    for _ in 0..4 {
        quiet = meter.push(&[0.0; 480]);
    }
    assert_eq!(quiet, Some(0.0));
    let mut loud = vec![0.0; 2400];
    loud[100] = -1.0;
    assert_eq!(meter.push(&loud), Some(1.0));
    let mut half = vec![0.0; 2400];
    half[5] = 0.001; // -60 dBFS
    assert_eq!(meter.push(&half), Some(0.0));
    half[5] = 0.031_622_8; // -30 dBFS
    let reading = meter.push(&half).unwrap();
    assert!((reading - 0.5).abs() < 1e-3, "{reading}");
}
