//! Signalling over real WebSockets: the licence rules and bad input.

mod common;

use std::time::Duration;

use common::{Client, TestServer, join_msg};
use confab_proto::signal::{ClientMessage, ErrorCode, LeaveReason, ServerMessage};
use confab_server::meetings::{NewMeeting, Schedule};
use confab_server::ratelimit::Limit;

fn error_code(msg: &ServerMessage) -> Option<ErrorCode> {
    match msg {
        ServerMessage::Error { code, .. } => Some(*code),
        _ => None,
    }
}

fn is_joined(msg: &ServerMessage) -> bool {
    matches!(msg, ServerMessage::Joined { .. })
}

#[tokio::test]
async fn a_ten_line_licence_admits_one_meeting_of_ten_and_refuses_the_eleventh() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Board")).await;
    let mut clients = Vec::new();
    for i in 0..10 {
        let mut c = Client::greeted(&s).await;
        assert!(is_joined(&c.join(m.code.as_str(), &format!("P{i}")).await));
        clients.push(c);
    }
    let mut late = Client::greeted(&s).await;
    match late.join(m.code.as_str(), "Eleventh").await {
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::ServerFull);
            assert_eq!(
                message,
                "All 10 lines are in use. Try again when someone leaves."
            );
        }
        other => panic!("expected server_full, got {other:?}"),
    }
    assert_eq!(s.lines_in_use().await, 10);
    assert_eq!(s.metric("confab_joins_refused_total").await, 1);
}

#[tokio::test]
async fn five_meetings_of_two_use_all_ten_lines() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let mut clients = Vec::new();
    for k in 0..5 {
        let m = s.meeting(NewMeeting::titled(format!("Pair {k}"))).await;
        for name in ["A", "B"] {
            let mut c = Client::greeted(&s).await;
            assert!(is_joined(&c.join(m.code.as_str(), name).await));
            clients.push(c);
        }
    }
    assert_eq!(s.lines_in_use().await, 10);
    let extra = s.meeting(NewMeeting::titled("One more")).await;
    let mut c = Client::greeted(&s).await;
    assert_eq!(
        error_code(&c.join(extra.code.as_str(), "X").await),
        Some(ErrorCode::ServerFull)
    );
}

#[tokio::test]
async fn a_hundred_concurrent_joins_against_ten_lines_admit_exactly_ten() {
    let s = TestServer::start(Some(10), |c| {
        c.signalling.joins = Limit {
            max: 1000,
            window: Duration::from_secs(10),
        };
    })
    .await;
    let m = s.meeting(NewMeeting::titled("Rush")).await;
    let url = s.ws_url();
    let code = m.code.as_str().to_string();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (url, code) = (url.clone(), code.clone());
            tokio::spawn(async move {
                let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
                let mut c = Client { ws };
                c.send(&ClientMessage::Hello { version: 1 }).await;
                c.recv().await;
                let answer = c.join(&code, &format!("P{i}")).await;
                (c, answer)
            })
        })
        .collect();
    let mut admitted = 0;
    let mut full = 0;
    let mut keep = Vec::new();
    for t in tasks {
        let (c, answer) = t.await.unwrap();
        match error_code(&answer) {
            None if is_joined(&answer) => admitted += 1,
            Some(ErrorCode::ServerFull) => full += 1,
            other => panic!("unexpected answer {other:?}: {answer:?}"),
        }
        keep.push(c);
    }
    assert_eq!((admitted, full), (10, 90));
    assert_eq!(s.lines_in_use().await, 10);
}

#[tokio::test]
async fn welcome_page_health_and_scheduled_meetings_take_no_line() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let base = s.base();
    tokio::task::spawn_blocking(move || {
        for path in ["/", "/api/health", "/", "/metrics"] {
            ureq::get(&format!("{base}{path}")).call().unwrap();
        }
    })
    .await
    .unwrap();
    let later = s
        .meeting(NewMeeting {
            schedule: Some(Schedule {
                starts_at: confab_license::Timestamp::now().as_second() + 86_400,
                duration_minutes: 60,
                weekly: false,
            }),
            ..NewMeeting::titled("Tomorrow")
        })
        .await;
    let mut c = Client::greeted(&s).await;
    assert_eq!(
        error_code(&c.join(later.code.as_str(), "Early").await),
        Some(ErrorCode::MeetingNotOpen)
    );
    assert_eq!(s.lines_in_use().await, 0);
}

#[tokio::test]
async fn the_lobby_takes_no_line_and_admission_takes_one() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let m = s
        .meeting(NewMeeting {
            lobby: true,
            ..NewMeeting::titled("Gated")
        })
        .await;
    let mut host = Client::greeted(&s).await;
    host.send(&ClientMessage::Join {
        meeting: m.code.as_str().into(),
        name: "Host".into(),
        kind: confab_proto::ClientKind::Boardroom,
        passcode: None,
        host_key: Some(m.host_key.clone()),
    })
    .await;
    assert!(is_joined(&host.recv().await));
    let mut guest = Client::greeted(&s).await;
    let ServerMessage::Lobby { you, .. } = guest.join(m.code.as_str(), "Guest").await else {
        panic!("expected the lobby");
    };
    host.recv_until(|m| matches!(m, ServerMessage::LobbyChanged { lobby } if lobby.len() == 1))
        .await;
    assert_eq!(s.lines_in_use().await, 1, "only the host holds a line");
    host.send(&ClientMessage::Admit {
        participant: you.id,
    })
    .await;
    assert!(is_joined(&guest.recv().await));
    assert_eq!(s.lines_in_use().await, 2);
}

#[tokio::test]
async fn a_killed_socket_gives_its_line_back_after_the_heartbeat_timeout() {
    let s = TestServer::start(Some(10), |c| {
        c.signalling.heartbeat_timeout = Duration::from_millis(600);
    })
    .await;
    let m = s.meeting(NewMeeting::titled("Drop")).await;
    let mut watcher = Client::greeted(&s).await;
    assert!(is_joined(&watcher.join(m.code.as_str(), "Watcher").await));
    let mut victim = Client::greeted(&s).await;
    let ServerMessage::Joined { you, .. } = victim.join(m.code.as_str(), "Victim").await else {
        panic!("joined");
    };
    // No close frame: the TCP connection just goes away.
    drop(victim);
    let left = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            watcher.send(&ClientMessage::Heartbeat).await;
            let msg = watcher.recv().await;
            if let ServerMessage::ParticipantLeft {
                participant,
                reason,
            } = msg
            {
                return (participant, reason);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the victim is seen to leave");
    assert_eq!(left, (you.id, LeaveReason::TimedOut));
    assert_eq!(s.lines_in_use().await, 1);
}

#[tokio::test]
async fn resuming_after_a_drop_keeps_the_same_participant_and_one_line() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Resume")).await;
    let mut c = Client::greeted(&s).await;
    let ServerMessage::Joined {
        you, resume_token, ..
    } = c.join(m.code.as_str(), "Ana").await
    else {
        panic!("joined");
    };
    drop(c);
    let mut again = Client::greeted(&s).await;
    again
        .send(&ClientMessage::Resume {
            token: resume_token,
        })
        .await;
    let ServerMessage::Joined { you: back, .. } = again.recv().await else {
        panic!("resumed");
    };
    assert_eq!(back.id, you.id);
    assert_eq!(s.lines_in_use().await, 1);
}

#[tokio::test]
async fn bad_input_gets_typed_errors_and_does_not_disturb_other_meetings() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Calm")).await;
    let mut a = Client::greeted(&s).await;
    let mut b = Client::greeted(&s).await;
    assert!(is_joined(&a.join(m.code.as_str(), "A").await));
    assert!(is_joined(&b.join(m.code.as_str(), "B").await));
    a.recv().await; // B joined

    let mut bad = Client::connect(&s).await;
    bad.send(&ClientMessage::Chat {
        text: "before hello".into(),
    })
    .await;
    assert_eq!(error_code(&bad.recv().await), Some(ErrorCode::OutOfOrder));
    bad.send(&ClientMessage::Hello { version: 1 }).await;
    assert!(matches!(bad.recv().await, ServerMessage::Welcome { .. }));
    bad.send_text("{not json").await;
    assert_eq!(
        error_code(&bad.recv().await),
        Some(ErrorCode::InvalidMessage)
    );
    bad.send_text("[1,2,3]").await;
    assert_eq!(
        error_code(&bad.recv().await),
        Some(ErrorCode::InvalidMessage)
    );
    bad.send_text(r#"{"type":"teleport"}"#).await;
    assert_eq!(error_code(&bad.recv().await), Some(ErrorCode::UnknownType));
    bad.send_text(r#"{"type":"join","meeting":42}"#).await;
    assert_eq!(
        error_code(&bad.recv().await),
        Some(ErrorCode::InvalidMessage)
    );
    bad.send(&ClientMessage::Chat {
        text: "before join".into(),
    })
    .await;
    assert_eq!(error_code(&bad.recv().await), Some(ErrorCode::OutOfOrder));
    bad.send(&ClientMessage::Hello { version: 1 }).await;
    assert_eq!(error_code(&bad.recv().await), Some(ErrorCode::OutOfOrder));
    assert_eq!(
        error_code(&bad.join("zzz-zzzz-zzz", "Nobody").await),
        Some(ErrorCode::MeetingNotFound)
    );
    let huge = format!(r#"{{"type":"chat","text":"{}"}}"#, "x".repeat(70 * 1024));
    bad.send_text(&huge).await;
    assert_eq!(
        error_code(&bad.recv().await),
        Some(ErrorCode::MessageTooLarge)
    );
    assert_eq!(bad.closed_with().await, Some(1009));

    // The meeting carries on.
    a.send(&ClientMessage::Chat {
        text: "still here".into(),
    })
    .await;
    let got = b
        .recv_until(|m| matches!(m, ServerMessage::Chat { .. }))
        .await;
    assert!(matches!(got, ServerMessage::Chat { message } if message.text == "still here"));
    assert_eq!(s.lines_in_use().await, 2);
    assert!(
        s.metric("confab_signalling_errors_total{code=\"invalid_message\"}")
            .await
            >= 3
    );
}

#[tokio::test]
async fn an_unsupported_protocol_version_is_refused_and_closed() {
    let s = TestServer::start(None, |_| {}).await;
    let mut c = Client::connect(&s).await;
    c.send(&ClientMessage::Hello { version: 99 }).await;
    assert_eq!(
        error_code(&c.recv().await),
        Some(ErrorCode::UnsupportedVersion)
    );
    assert_eq!(c.closed_with().await, Some(1002));
}

#[tokio::test]
async fn wrong_passcodes_are_rate_limited_per_address() {
    let s = TestServer::start(None, |c| {
        c.signalling.wrong_passcodes = Limit {
            max: 3,
            window: Duration::from_secs(60),
        };
    })
    .await;
    let m = s
        .meeting(NewMeeting {
            passcode: Some("24681357".into()),
            ..NewMeeting::titled("Secret")
        })
        .await;
    let mut c = Client::greeted(&s).await;
    for _ in 0..3 {
        c.send(&join_msg(m.code.as_str(), "Guess", Some("0000")))
            .await;
        assert_eq!(error_code(&c.recv().await), Some(ErrorCode::WrongPasscode));
    }
    c.send(&join_msg(m.code.as_str(), "Guess", Some("24681357")))
        .await;
    match c.recv().await {
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::RateLimited);
            assert!(message.contains("Try again in"), "{message}");
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert_eq!(s.lines_in_use().await, 0);
}

#[tokio::test]
async fn a_flood_of_joins_from_one_address_is_rate_limited() {
    let s = TestServer::start(None, |c| {
        c.signalling.joins = Limit {
            max: 5,
            window: Duration::from_secs(60),
        };
    })
    .await;
    let mut c = Client::greeted(&s).await;
    for _ in 0..5 {
        assert_eq!(
            error_code(&c.join("nop-eeee-nop", "F").await),
            Some(ErrorCode::MeetingNotFound)
        );
    }
    assert_eq!(
        error_code(&c.join("nop-eeee-nop", "F").await),
        Some(ErrorCode::RateLimited)
    );
}

#[tokio::test]
async fn chat_is_kept_for_late_joiners() {
    let s = TestServer::start(None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Chatty")).await;
    let mut a = Client::greeted(&s).await;
    a.join(m.code.as_str(), "Ana").await;
    a.send(&ClientMessage::Chat {
        text: "agenda: licences".into(),
    })
    .await;
    a.recv_until(|m| matches!(m, ServerMessage::Chat { .. }))
        .await;
    let mut b = Client::greeted(&s).await;
    let ServerMessage::Joined {
        chat, participants, ..
    } = b.join(m.code.as_str(), "Ben").await
    else {
        panic!("joined");
    };
    assert_eq!(chat.len(), 1);
    assert_eq!(chat[0].text, "agenda: licences");
    assert_eq!(participants.len(), 2);
}

#[tokio::test]
async fn leaving_frees_the_line_and_the_server_closes_the_socket() {
    let s = TestServer::start(None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Short")).await;
    let mut c = Client::greeted(&s).await;
    assert!(is_joined(&c.join(m.code.as_str(), "Ana").await));
    c.send(&ClientMessage::Leave).await;
    assert!(matches!(c.recv().await, ServerMessage::Left));
    assert_eq!(c.closed_with().await, Some(1000));
    assert_eq!(s.lines_in_use().await, 0);
}

#[tokio::test]
async fn a_connection_that_only_idles_is_closed() {
    let s = TestServer::start(None, |o| {
        o.signalling.heartbeat_timeout = Duration::from_millis(300);
    })
    .await;
    let mut c = Client::greeted(&s).await;
    let started = std::time::Instant::now();
    assert_eq!(c.closed_with().await, Some(1008));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
