//! `confab-bot` as a real process: killed with SIGKILL (no leave, no
//! close), its seat comes back within the heartbeat timeout; stopped with
//! SIGTERM it leaves cleanly and prints its summary. A refused join exits
//! nonzero with the server's sentence.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use confab_client::{
    ClientError, ErrorCode, JoinOptions, LeaveReason, MediaOptions, Meeting, MeetingEvent,
};
use support::{Peer, Server};

/// Shortened so the test waits seconds, not the default 15 s.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(3);

fn bot(server: &Server, code: &str, name: &str, duration: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_confab-bot"))
        .args([
            "--server",
            &server.base(),
            "--meeting",
            code,
            "--name",
            name,
        ])
        .args(["--duration", duration, "--size", "320x180"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("confab-bot starts")
}

/// Kills the child if a test fails half-way.
struct Reaper(Option<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn joined_by(watcher: &mut Peer, name: &str) -> u64 {
    let e = watcher
        .expect(
            "the bot joining",
            |e| matches!(e, MeetingEvent::ParticipantJoined(p) if p.name == name),
        )
        .await;
    let MeetingEvent::ParticipantJoined(p) = e else {
        unreachable!()
    };
    p.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_bot_times_out_and_its_line_is_free_again_within_the_heartbeat_timeout() {
    let server = Server::start(Some(HEARTBEAT_TIMEOUT)).await;
    let code = server.meeting(None).await;
    let mut watcher = Peer::join(&server, &code, "Watcher", false).await;
    let mut others = Vec::new();
    for i in 0..3 {
        others.push(Peer::join(&server, &code, &format!("Other {i}"), false).await);
    }
    let mut child = Reaper(Some(bot(&server, &code, "Doomed", "60")));
    let bot_id = joined_by(&mut watcher, "Doomed").await;

    // All five free-tier lines are taken.
    let full = Meeting::join(
        JoinOptions::new(server.base(), &code, "Late"),
        MediaOptions::default(),
    )
    .await;
    assert_eq!(
        full.err().and_then(|e| e.code()),
        Some(ErrorCode::ServerFull)
    );

    let killed_at = Instant::now();
    let mut c = child.0.take().unwrap();
    c.kill().expect("SIGKILL");
    c.wait().unwrap();
    let left = watcher
        .expect("the bot leaving", |e| {
            matches!(e, MeetingEvent::ParticipantLeft { participant, .. } if *participant == bot_id)
        })
        .await;
    let gone_after = killed_at.elapsed();
    assert_eq!(
        left,
        MeetingEvent::ParticipantLeft {
            participant: bot_id,
            reason: LeaveReason::TimedOut
        }
    );
    assert!(
        gone_after <= HEARTBEAT_TIMEOUT + Duration::from_secs(2),
        "freed after {gone_after:?}"
    );
    Peer::join(&server, &code, "Late", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_a_bot_cleanly_with_a_summary_and_a_refused_bot_exits_nonzero() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    let mut watcher = Peer::join(&server, &code, "Watcher", true).await;
    let child = bot(&server, &code, "Polite", "60");
    let pid = child.id();
    let reaper = Reaper(Some(child));
    let bot_id = joined_by(&mut watcher, "Polite").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let left = watcher
        .expect("the bot leaving", |e| {
            matches!(e, MeetingEvent::ParticipantLeft { .. })
        })
        .await;
    assert_eq!(
        left,
        MeetingEvent::ParticipantLeft {
            participant: bot_id,
            reason: LeaveReason::Left
        },
        "SIGTERM leaves rather than timing out"
    );
    let mut reaper = reaper;
    let out = tokio::task::spawn_blocking(move || reaper.0.take().unwrap().wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["bot"], "Polite");
    let remote = &line["remotes"][0];
    assert_eq!(remote["name"], "Watcher");
    assert!(remote["frames_decoded"].as_u64().unwrap() > 0, "{line}");
    assert!(line["join_to_first_frame_ms"].as_u64().is_some(), "{line}");

    let refused = Command::new(env!("CARGO_BIN_EXE_confab-bot"))
        .args([
            "--server",
            &server.base(),
            "--meeting",
            "zzz-zzzz-zzz",
            "--duration",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let sentence = match Meeting::join(
        JoinOptions::new(server.base(), "zzz-zzzz-zzz", "Probe"),
        MediaOptions::default(),
    )
    .await
    {
        Err(ClientError::Server { message, .. }) => message,
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    };
    assert!(stderr.contains(&sentence), "stderr says why: {stderr}");
}
