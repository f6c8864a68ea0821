//! The meeting module against a real host (the server library on
//! loopback) and a second participant from the meeting client: updates
//! reach the sink, the other's video and the local camera reach the frame
//! hub, chat goes both ways, leaving gives the seat back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_client::bot::{self, Recorder};
use confab_client::{JoinOptions, Meeting, MeetingEvent};
use confab_server::config::TlsMode;
use confab_server::meetings::{Meetings, NewMeeting};
use confab_server::{Config, RunningServer};

use crate::pins::PinStore;

use super::update::{MeetingUpdate, video_stream};
use super::*;
use crate::preview::FakeDevices;

#[derive(Default)]
struct Collected(Mutex<Vec<MeetingUpdate>>);

impl MeetingSink for Collected {
    fn update(&self, update: MeetingUpdate) {
        self.0.lock().unwrap().push(update);
    }
}

impl Collected {
    async fn wait_for(&self, what: &str, found: impl Fn(&MeetingUpdate) -> bool) -> MeetingUpdate {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(u) = self.0.lock().unwrap().iter().find(|u| found(u)) {
                return u.clone();
            }
            assert!(Instant::now() < deadline, "no {what} within 15 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn server(dir: &std::path::Path) -> (RunningServer, String) {
    server_with(dir, TlsMode::Auto).await
}

async fn server_with(dir: &std::path::Path, tls: TlsMode) -> (RunningServer, String) {
    let config = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        media_port: 0,
        tls,
        ..Config::defaults().unwrap()
    };
    let server = confab_server::start(&config).await.unwrap();
    let meeting = create(&server, NewMeeting::titled("App test")).await;
    (server, meeting.code.as_str().to_owned())
}

async fn create(server: &RunningServer, meeting: NewMeeting) -> confab_server::meetings::Meeting {
    Meetings::new(server.storage().clone())
        .create(meeting, "test")
        .await
        .unwrap()
}

fn request(code: &str) -> JoinRequest {
    JoinRequest {
        server: None,
        code: code.into(),
        name: "Desk".into(),
        passcode: None,
        camera_on: true,
        microphone_on: false,
        camera: None,
        microphone: None,
        speaker: None,
    }
}

/// Waits until the hub's `stream` has had at least `frames` pictures.
async fn frames_on(hub: &FrameHub, stream: &str, frames: u32) {
    let mut rx = hub.subscribe(stream);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if rx
            .borrow_and_update()
            .as_ref()
            .is_some_and(|(n, _)| *n >= frames)
        {
            return;
        }
        assert!(Instant::now() < deadline, "{stream} got {frames} frames");
        let _ = tokio::time::timeout(Duration::from_millis(200), rx.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_joins_sees_a_bot_chats_and_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let (server, code) = server(dir.path()).await;
    let sources = fake_sources();
    let sink = Arc::new(Collected::default());
    let mut slot = MeetingSlot::default();
    let answer = slot
        .join(
            &server.base_url(),
            request(&code),
            None,
            None,
            sources.clone(),
            sink.clone(),
        )
        .await
        .unwrap();
    assert!(answer.admitted && answer.problems.is_empty(), "{answer:?}");
    assert_eq!(server.lines().0, 1);
    // The self view shows the local camera.
    frames_on(&sources.hub, SELF_STREAM, 5).await;

    let recorder = Recorder::default();
    let media = bot::fake_media("Bot", Some((320, 180, 15)), true, &recorder).unwrap();
    let (bot, mut bot_events) =
        Meeting::join(JoinOptions::new(server.base_url(), &code, "Bot"), media)
            .await
            .unwrap();
    let bot_id = bot.id().unwrap();
    let video = sink
        .wait_for(
            "the bot's video",
            |u| matches!(u, MeetingUpdate::Video { participant, .. } if *participant == bot_id),
        )
        .await;
    let MeetingUpdate::Video { stream, .. } = video else {
        unreachable!()
    };
    assert_eq!(stream, video_stream(bot_id));
    slot.set_view(bot_id, 320, 180).unwrap();
    frames_on(&sources.hub, &stream, 10).await;

    slot.chat("  Hello bot  ").unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, bot_events.recv())
            .await
            .unwrap()
            .unwrap();
        if let MeetingEvent::Chat(m) = event {
            assert_eq!((m.name.as_str(), m.text.as_str()), ("Desk", "Hello bot"));
            break;
        }
    }
    bot.chat("Hello desk").unwrap();
    sink.wait_for(
        "the bot's chat",
        |u| matches!(u, MeetingUpdate::Chat { message } if message.text == "Hello desk"),
    )
    .await;
    sink.wait_for(
        "a quality grade of the bot's link",
        |u| matches!(u, MeetingUpdate::Quality { links, .. } if links.contains_key(&bot_id)),
    )
    .await;

    // Unmuting opens the microphone the join left closed; another speaker
    // plays the meeting; then the camera goes off.
    slot.set_audio_muted(false).await.unwrap();
    slot.set_speaker(None).await.unwrap();
    slot.set_camera(false, None).await.unwrap();
    assert!(
        sources.hub.subscribe(SELF_STREAM).borrow().is_none(),
        "self view cleared"
    );

    slot.leave().await;
    assert!(!slot.is_active());
    assert!(
        sources.hub.subscribe(&stream).borrow().is_none(),
        "the bot's stream cleared"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.lines().0 != 1 {
        assert!(
            Instant::now() < deadline,
            "the app's seat is given back at once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bot.leave().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passcode_and_an_unreachable_host_are_failures_with_a_way_forward() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = server(dir.path()).await;
    let locked = create(
        &server,
        NewMeeting {
            passcode: Some("1234".into()),
            ..NewMeeting::titled("Private")
        },
    )
    .await;
    let sources = fake_sources();
    let sink: Arc<dyn MeetingSink> = Arc::new(Collected::default());
    let mut slot = MeetingSlot::default();
    let mut req = request(locked.code.as_str());
    req.camera_on = false;
    req.passcode = Some("9999".into());
    let wrong = slot
        .join(
            &server.base_url(),
            req.clone(),
            None,
            None,
            sources.clone(),
            Arc::clone(&sink),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, JoinFailureKind::WrongPasscode, "{wrong:?}");
    assert!(!slot.is_active());

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let gone = format!("http://{addr}");
    let unreachable = slot
        .join(&gone, req, None, None, sources, sink)
        .await
        .unwrap_err();
    assert_eq!(
        unreachable.kind,
        JoinFailureKind::Unreachable,
        "{unreachable:?}"
    );
    server.stop().await.unwrap();
}

fn fake_sources() -> MediaSources {
    MediaSources {
        catalog: Arc::new(FakeDevices::parse(Some("1")).unwrap().unwrap().catalog()),
        hub: FrameHub::new(),
    }
}

#[test]
fn the_apps_microphone_goes_through_echo_cancellation() {
    let mut join = request("kqz-rmtp-wfa");
    join.microphone_on = true;
    let (media, problems) = open_media(&join, &fake_sources());
    assert!(problems.is_empty(), "{problems:?}");
    assert!(media.microphone.is_some());
    let processing = media.processing.expect("the microphone is processed");
    assert!(processing.echo_cancellation);
    assert!(processing.noise_suppression);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_host_is_pinned_on_first_use_and_a_new_certificate_is_refused() {
    let (dir, pins_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (server, code) = server_with(dir.path(), TlsMode::On).await;
    let base = server.base_url();
    assert!(base.starts_with("https://"), "{base}");
    let pins = PinStore::new(pins_dir.path());
    let pinned = pinned_fingerprint(&base, &pins).await.unwrap();
    assert!(pinned.is_some(), "an https host gets a fingerprint");
    assert_eq!(pins.get(&base), pinned, "remembered on first use");
    // Joining with the pin works (the client refuses any other certificate).
    let mut slot = MeetingSlot::default();
    let mut req = request(&code);
    req.camera_on = false;
    slot.join(
        &base,
        req,
        pinned.clone(),
        None,
        fake_sources(),
        Arc::new(Collected::default()),
    )
    .await
    .unwrap();
    slot.leave().await;

    // The host's certificate changes (another pin stands in for the old one).
    let old = "AA:BB:CC:DD".to_owned();
    pins.trust(&base, &old).unwrap();
    let changed = pinned_fingerprint(&base, &pins).await.unwrap_err();
    assert_eq!(changed.kind, JoinFailureKind::CertificateChanged);
    assert_eq!(changed.old_fingerprint.as_deref(), Some(old.as_str()));
    assert_eq!(changed.new_fingerprint, pinned);
    assert!(
        changed
            .message
            .starts_with("This host's certificate changed since you last joined")
    );
    assert_eq!(
        pins.get(&base).as_deref(),
        Some(old.as_str()),
        "not replaced silently"
    );
    // A plain http host needs no pin.
    assert_eq!(
        pinned_fingerprint("http://127.0.0.1:9", &pins)
            .await
            .unwrap(),
        None
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_refuses_with_its_lines_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let (server, code) = server(dir.path()).await;
    let (_, limit) = server.lines();
    let mut others = Vec::new();
    for i in 0..limit {
        let options = JoinOptions::new(server.base_url(), &code, format!("P{i}"));
        others.push(
            Meeting::join(options, confab_client::MediaOptions::default())
                .await
                .unwrap(),
        );
    }
    let mut slot = MeetingSlot::default();
    let mut req = request(&code);
    req.camera_on = false;
    let full = slot
        .join(
            &server.base_url(),
            req,
            None,
            None,
            fake_sources(),
            Arc::new(Collected::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(full.kind, JoinFailureKind::Full, "{full:?}");
    assert!(
        full.message.contains(&format!("{limit} lines")),
        "{}",
        full.message
    );
    for (meeting, _) in others {
        meeting.leave().await.unwrap();
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_waits_in_the_lobby_until_the_host_admits_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = server(dir.path()).await;
    let meeting = create(
        &server,
        NewMeeting {
            lobby: true,
            ..NewMeeting::titled("With a lobby")
        },
    )
    .await;
    let code = meeting.code.as_str();
    let mut options = JoinOptions::new(server.base_url(), code, "Host");
    options.host_key = Some(meeting.host_key.clone());
    let (host, mut host_events) = Meeting::join(options, confab_client::MediaOptions::default())
        .await
        .unwrap();

    let sink = Arc::new(Collected::default());
    let mut slot = MeetingSlot::default();
    let mut req = request(code);
    req.camera_on = false;
    let answer = slot
        .join(
            &server.base_url(),
            req,
            None,
            None,
            fake_sources(),
            sink.clone(),
        )
        .await
        .unwrap();
    assert!(!answer.admitted && answer.me.is_none(), "{answer:?}");
    sink.wait_for("the lobby", |u| matches!(u, MeetingUpdate::InLobby { .. }))
        .await;
    // The host sees the app waiting.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let waiting = loop {
        let event = tokio::time::timeout_at(deadline, host_events.recv())
            .await
            .expect("the host sees the lobby")
            .unwrap();
        if let MeetingEvent::LobbyChanged(lobby) = event
            && let Some(entry) = lobby.first()
        {
            break entry.id;
        }
    };
    host.admit(waiting).unwrap();
    let joined = sink
        .wait_for("admission", |u| matches!(u, MeetingUpdate::Joined { .. }))
        .await;
    let MeetingUpdate::Joined { you, .. } = joined else {
        unreachable!()
    };
    assert_eq!(you.name, "Desk");
    slot.leave().await;
    host.leave().await.unwrap();
    server.stop().await.unwrap();
}
