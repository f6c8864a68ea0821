//! A running meeting changes its camera, microphone and speaker: the others
//! see the new camera's picture and hear the new microphone without a
//! rejoin, the meeting plays on the new speaker, and removing a device
//! stops it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_client::MeetingEvent;
use confab_client::bot::{self, Recorder};
use confab_devices::fake::{FakeSpeaker, Plug, Recording};
use confab_devices::{DeviceId, DeviceInfo, DeviceKind};
use support::{Peer, Server, eventually};

/// A fresh set of fake devices; the camera's picture is `size`.
fn devices(name: &str, size: (u32, u32)) -> confab_client::MediaOptions {
    bot::fake_media(name, Some((size.0, size.1, 15)), true, &Recorder::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_switches_camera_microphone_and_speaker_without_rejoining() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    let local: Arc<Mutex<Vec<(u32, u32)>>> = Arc::default();
    let seen = Arc::clone(&local);
    let mut ana = Peer::join_with(&server, &code, "Ana", true, |m| {
        m.on_local_video = Some(Arc::new(move |f| {
            seen.lock().unwrap().push((f.width(), f.height()));
        }));
    })
    .await;
    let mut ben = Peer::join(&server, &code, "Ben", true).await;
    let ana_id = ana.id();
    ben.expect("Ana's 16:9 video", |e| {
        matches!(e, MeetingEvent::VideoAvailable { participant, width, height }
            if *participant == ana_id && width * 9 == height * 16)
    })
    .await;
    assert!(
        local.lock().unwrap().iter().all(|s| *s == (640, 360)),
        "the self view gets the first camera's pictures"
    );

    // A square camera replaces the wide one: Ben's decoder follows.
    let mut square = devices("Ana-square", (480, 480));
    ana.meeting.set_camera(square.camera.take()).await.unwrap();
    ben.expect("Ana's square video", |e| {
        matches!(e, MeetingEvent::VideoAvailable { participant, width, height }
            if *participant == ana_id && width == height)
    })
    .await;
    assert_eq!(local.lock().unwrap().last(), Some(&(480, 480)));
    let decoded = || ben.meeting.stats()[&ana_id].frames_decoded;
    let before = decoded();
    assert!(
        eventually(Duration::from_secs(5), || decoded() > before + 10).await,
        "frames from the new camera keep arriving"
    );

    // No camera: capture stops (the device is released).
    ana.meeting.set_camera(None).await.unwrap();
    let captured = ana.meeting.send_stats().frames_captured;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ana.meeting.send_stats().frames_captured, captured);

    // The microphone: removed, nothing is sent; a new one, Ben hears it.
    ana.meeting.set_microphone(None).await.unwrap();
    let sent = ana.meeting.send_stats().audio_packets;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ana.meeting.send_stats().audio_packets, sent);
    let heard = ben.meeting.stats()[&ana_id].audio_packets;
    let mut other = devices("Ana-headset", (640, 360));
    ana.meeting
        .set_microphone(other.microphone.take())
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || {
            ben.meeting.stats()[&ana_id].audio_packets > heard + 25
        })
        .await,
        "Ben receives audio from the new microphone"
    );

    // Ben puts on a headset: the meeting plays there; then on none.
    let played = Recording::default();
    let headset = FakeSpeaker::new(
        DeviceInfo {
            id: DeviceId("headset".into()),
            name: "Headset".into(),
            kind: DeviceKind::Speaker,
            is_default: false,
        },
        Plug::new(),
        played.clone(),
    );
    ben.meeting
        .set_speaker(Some(Box::new(headset)))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || played.len() > 48_000).await,
        "a second of the meeting plays on the new speaker"
    );
    ben.meeting.set_speaker(None).await.unwrap();
    let heard = played.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        played.len(),
        heard,
        "nothing plays once the speaker is removed"
    );

    ana.drain();
    ana.meeting.leave().await.unwrap();
    ben.meeting.leave().await.unwrap();
}
