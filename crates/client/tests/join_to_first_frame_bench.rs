//! Benchmark (ignored by default): join → first decoded remote frame,
//! p50/p95 over 50 joins on loopback against the real server. Run with
//! `cargo test -p confab-client --test join_to_first_frame_bench -- --ignored --nocapture`
//! and record the figures in docs/benchmarks.md.

mod support;

use std::time::{Duration, Instant};

use confab_client::bot::Recorder;
use confab_client::{JoinOptions, MediaOptions, Meeting};
use confab_server::config::TlsMode;
use support::{Peer, Server, eventually};

const JOINS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run on purpose and record the figures"]
async fn join_to_first_remote_frame_p50_p95() {
    // Every viewer joins from 127.0.0.1: lift the per-address join limit
    // (30 in 10 s), which the joins would otherwise hit.
    let server = Server::start_tuned(TlsMode::Auto, |o| o.signalling.joins.max = 10_000).await;
    let code = server.meeting(None).await;
    let publisher = Peer::join(&server, &code, "Publisher", true).await;
    let mut times = Vec::with_capacity(JOINS);
    for i in 0..JOINS {
        let recorder = Recorder::default();
        let media = MediaOptions {
            on_video: Some(recorder.frame_callback()),
            ..MediaOptions::default()
        };
        let started = Instant::now();
        let (meeting, _events) = Meeting::join(
            JoinOptions::new(server.base(), &code, format!("Viewer {i}")),
            media,
        )
        .await
        .unwrap();
        let seen = eventually(Duration::from_secs(10), || {
            recorder.track(publisher.id()).first_frame.is_some()
        })
        .await;
        assert!(seen, "join {i}: no frame within 10 s");
        let first = recorder.track(publisher.id()).first_frame.unwrap();
        times.push(first.duration_since(started));
        meeting.leave().await.unwrap();
    }
    times.sort_unstable();
    let at = |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "join -> first remote frame over {JOINS} joins: p50 {:?}, p95 {:?}, min {:?}, max {:?}",
        at(0.50),
        at(0.95),
        times[0],
        times[times.len() - 1]
    );
}
