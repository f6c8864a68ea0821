//! Fake devices: pacing on virtual and real time, the recording speaker,
//! and unplugging with the fall-back-to-default path.

use std::time::{Duration, Instant};

use confab_devices::fake::{FakeCamera, FakeCatalog, FakeMicrophone, Pacing, Plug};
use confab_devices::source::{AudioSource, Silence};
use confab_devices::{
    AudioFrame, Camera, CameraFormat, DeviceCatalog, DeviceError, DeviceEvent, DeviceId,
    DeviceInfo, DeviceKind, DeviceWatcher, Fallback, Microphone, RecvError, VideoFrame,
};

fn info(kind: DeviceKind, name: &str) -> DeviceInfo {
    DeviceInfo {
        id: DeviceId(name.to_lowercase()),
        name: name.into(),
        kind,
        is_default: true,
    }
}

/// A picture whose luma is the frame index, so order is visible.
fn numbered(index: u64, timestamp: Duration) -> VideoFrame {
    let mut frame = VideoFrame::black(16, 16, timestamp).unwrap();
    frame.planes_mut().0.fill(index as u8);
    frame
}

/// A ramp that continues across calls, so lost or repeated samples show.
struct Counter(f32);

impl AudioSource for Counter {
    fn fill(&mut self, out: &mut [f32]) {
        for s in out {
            *s = self.0;
            self.0 += 1.0;
        }
    }

    fn position(&self) -> u64 {
        self.0 as u64
    }
}

#[test]
fn fake_camera_delivers_30_frames_in_a_virtual_second() {
    let format = CameraFormat {
        width: 16,
        height: 16,
        fps: 30,
    };
    let plug = Plug::new();
    let mut camera = FakeCamera::new(
        info(DeviceKind::Camera, "Cam"),
        format,
        Box::new(numbered),
        Pacing::Manual,
        plug,
    );
    let rx = camera.start().unwrap();
    let mut frames = Vec::new();
    for ms in (0..=1000).step_by(5) {
        camera.advance_to(Duration::from_millis(ms));
        while let Ok(f) = rx.try_recv() {
            frames.push(f);
        }
    }
    assert_eq!(frames.len(), 30);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.planes().0[0], i as u8);
        assert_eq!(f.timestamp, Duration::from_secs(1) * i as u32 / 30);
    }
    assert_eq!(rx.dropped(), 0);
    // A consumer that looks only once sees the latest frame, not a backlog.
    camera.advance_to(Duration::from_secs(2));
    assert_eq!(rx.try_recv().unwrap().planes().0[0], 59);
    assert_eq!(rx.dropped(), 29);
}

#[test]
fn fake_microphone_delivers_100_frames_of_10ms_in_a_virtual_second() {
    let mut mic = FakeMicrophone::new(
        info(DeviceKind::Microphone, "Mic"),
        Box::new(Counter(0.0)),
        Pacing::Manual,
        Plug::new(),
    );
    let rx = mic.start().unwrap();
    let mut samples = Vec::new();
    for ms in (0..=1000).step_by(30) {
        mic.advance_to(Duration::from_millis(ms));
        while let Ok(f) = rx.try_recv() {
            assert_eq!(
                f.timestamp.as_micros() as usize,
                samples.len() * 1_000_000 / 48_000
            );
            samples.extend(f.samples);
        }
    }
    mic.advance_to(Duration::from_secs(1));
    while let Ok(f) = rx.try_recv() {
        samples.extend(f.samples);
    }
    assert_eq!(samples.len(), 48_000);
    assert!(samples.iter().enumerate().all(|(i, &s)| s == i as f32));
}

#[test]
fn fake_microphone_on_real_time_keeps_pace() {
    let mut mic = FakeMicrophone::new(
        info(DeviceKind::Microphone, "Mic"),
        Box::new(Silence::default()),
        Pacing::RealTime,
        Plug::new(),
    );
    let rx = mic.start().unwrap();
    let start = Instant::now();
    let mut frames = 0;
    while start.elapsed() < Duration::from_millis(500) {
        if rx.recv_timeout(Duration::from_millis(50)).is_ok() {
            frames += 1;
        }
    }
    // 50 frames are due; allow for a loaded machine.
    assert!((40..=51).contains(&frames), "{frames} frames in 500 ms");
    mic.stop();
    while rx.try_recv().is_ok() {}
    assert_eq!(rx.try_recv(), Err(RecvError::Stopped));
}

#[test]
fn recording_speaker_keeps_what_it_plays() {
    let catalog = FakeCatalog::new();
    let (_, recording) = catalog.add_speaker("Headphones");
    let mut speaker = catalog.open_speaker(None).unwrap();
    let frame = |v: f32| AudioFrame {
        samples: vec![v; 480],
        timestamp: Duration::ZERO,
    };
    speaker.play(&frame(0.1)).unwrap();
    speaker.start().unwrap();
    speaker.play(&frame(0.5)).unwrap();
    speaker.play(&frame(-0.5)).unwrap();
    let samples = recording.samples();
    assert_eq!(samples.len(), 960, "audio before start is not played");
    assert_eq!((samples[0], samples[959]), (0.5, -0.5));
    assert_eq!(speaker.stats().played, 960);
}

#[test]
fn unplugging_the_microphone_in_use_ends_its_stream_and_falls_back_to_the_default() {
    let catalog = FakeCatalog::new();
    let built_in = catalog.add_microphone("Built-in", || Box::new(Silence::default()));
    let usb = catalog.add_microphone("USB headset", || Box::new(Silence::default()));
    catalog.set_default(&usb);
    let mut watcher = DeviceWatcher::new();
    watcher.poll(&catalog).unwrap();

    let mut mic = catalog.open_microphone(None).unwrap();
    assert_eq!(mic.info().id, usb);
    let rx = mic.start().unwrap();
    rx.recv_timeout(Duration::from_secs(2)).unwrap();

    catalog.unplug(&usb);
    let ended = std::iter::repeat_with(|| rx.recv_timeout(Duration::from_secs(2)))
        .find(Result::is_err)
        .unwrap();
    let gone = DeviceError::Disappeared {
        kind: DeviceKind::Microphone,
        name: "USB headset".into(),
    };
    assert_eq!(ended, Err(RecvError::Failed(gone.clone())));
    assert_eq!(
        gone.to_string(),
        "the microphone \"USB headset\" disappeared"
    );

    let events = watcher.poll(&catalog).unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DeviceEvent::Disappeared(d) if d.id == usb))
    );
    let fallback = Fallback::find(&events, &usb, None).unwrap();
    let to = fallback.to.clone().unwrap();
    assert_eq!(to.id, built_in);
    assert_eq!(
        fallback.to_string(),
        "The microphone \"USB headset\" was disconnected; using \"Built-in\" (the system default) instead."
    );
    let mut replacement = catalog.open_microphone(Some(&to.id)).unwrap();
    replacement
        .start()
        .unwrap()
        .recv_timeout(Duration::from_secs(2))
        .unwrap();
    assert!(matches!(
        catalog.open_microphone(Some(&usb)),
        Err(DeviceError::Disappeared { .. })
    ));
}

#[test]
fn unplugged_camera_and_speaker_say_so() {
    let catalog = FakeCatalog::new();
    let cam = catalog.add_camera("Webcam", |f| {
        Box::new(move |_, t| VideoFrame::black(f.width, f.height, t).unwrap())
    });
    let (speaker_id, _) = catalog.add_speaker("Speakers");
    let format = CameraFormat {
        width: 32,
        height: 16,
        fps: 50,
    };
    let mut camera = catalog.open_camera(None, format).unwrap();
    let rx = camera.start().unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(2)).unwrap().width(), 32);
    let mut speaker = catalog.open_speaker(None).unwrap();
    speaker.start().unwrap();

    catalog.unplug(&cam);
    catalog.unplug(&speaker_id);
    let ended = std::iter::repeat_with(|| rx.recv_timeout(Duration::from_secs(2)))
        .find(Result::is_err)
        .unwrap();
    assert!(matches!(
        ended,
        Err(RecvError::Failed(DeviceError::Disappeared { .. }))
    ));
    let silence = AudioFrame {
        samples: vec![0.0; 480],
        timestamp: Duration::ZERO,
    };
    assert!(speaker.play(&silence).is_err());
    assert_eq!(
        catalog.open_camera(None, format).err(),
        Some(DeviceError::NoneFound(DeviceKind::Camera))
    );
}

#[test]
fn a_microphone_held_by_another_program_is_refused_as_busy_until_freed() {
    let catalog = FakeCatalog::new();
    let id = catalog.add_microphone("Desk mic", || Box::new(Silence::default()));
    catalog.set_held(&id, true);
    assert_eq!(
        catalog.open_microphone(None).err(),
        Some(DeviceError::Busy {
            kind: DeviceKind::Microphone,
            name: "Desk mic".into()
        })
    );
    assert_eq!(catalog.devices(DeviceKind::Microphone).unwrap().len(), 1);
    catalog.set_held(&id, false);
    assert!(catalog.open_microphone(Some(&id)).is_ok());
}

#[test]
fn fake_camera_with_the_test_pattern_stamps_each_frame_with_its_number() {
    let format = CameraFormat {
        width: 320,
        height: 180,
        fps: 15,
    };
    let pattern = confab_media::synth::video::TestPattern::new(320, 180, 15).unwrap();
    let mut camera = FakeCamera::new(
        info(DeviceKind::Camera, "Pattern"),
        format,
        Box::new(pattern),
        Pacing::Manual,
        Plug::new(),
    );
    let rx = camera.start().unwrap();
    let mut numbers = Vec::new();
    for ms in (0..=1000).step_by(10) {
        camera.advance_to(Duration::from_millis(ms));
        while let Ok(frame) = rx.try_recv() {
            let stamp = confab_media::synth::video::read_stamp(&frame).expect("a readable stamp");
            assert_eq!(u128::from(stamp.timestamp_ms), frame.timestamp.as_millis());
            numbers.push(stamp.frame_number);
        }
    }
    assert_eq!(
        numbers,
        (0..15).collect::<Vec<u32>>(),
        "one second at 15 fps, in order"
    );
}

#[test]
fn fake_microphone_with_a_chirp_source_is_heard_by_the_chirp_detector() {
    use confab_media::synth::audio::{Chirp, ChirpDetector};
    let chirp = Chirp::new(300.0, 3000.0, Duration::from_millis(200), 0.5);
    let detector = ChirpDetector::new(&chirp, 0.5);
    let mut mic = FakeMicrophone::new(
        info(DeviceKind::Microphone, "Chirper"),
        Box::new(chirp),
        Pacing::Manual,
        Plug::new(),
    );
    let rx = mic.start().unwrap();
    let mut heard = Vec::new();
    for ms in (0..=600).step_by(10) {
        mic.advance_to(Duration::from_millis(ms));
        while let Ok(frame) = rx.try_recv() {
            heard.extend_from_slice(&frame.samples);
        }
    }
    assert!(
        heard.len() >= 28_800,
        "600 ms delivered, got {}",
        heard.len()
    );
    let found = detector.find_all(&heard);
    assert!(found.len() >= 2, "chirps found: {found:?}");
}
