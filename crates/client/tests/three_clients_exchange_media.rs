//! Three clients in one meeting on loopback through the real server and
//! SFU: each decodes the other two's stamped frame counters in order and
//! hears their chirps.

mod support;

use std::time::Duration;

use confab_client::MeetingEvent;
use confab_client::bot::chirp_for;
use confab_devices::fake::{FakeSpeaker, Plug, Recording};
use confab_devices::{DeviceId, DeviceInfo, DeviceKind};
use confab_media::synth::audio::ChirpDetector;
use support::{Peer, Server, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_see_each_others_frame_counters_in_order_and_hear_their_chirps() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    // Ana plays everyone through a (fake) speaker.
    let played = Recording::default();
    let speaker = FakeSpeaker::new(
        DeviceInfo {
            id: DeviceId("speaker".into()),
            name: "Speaker".into(),
            kind: DeviceKind::Speaker,
            is_default: true,
        },
        Plug::new(),
        played.clone(),
    );
    let mut peers = vec![
        Peer::join_with(&server, &code, "Ana", true, |m| {
            m.speaker = Some(Box::new(speaker));
        })
        .await,
        Peer::join(&server, &code, "Ben", true).await,
        Peer::join(&server, &code, "Cleo", true).await,
    ];
    let ids: Vec<u64> = peers.iter().map(Peer::id).collect();
    for peer in &peers {
        for &other in ids.iter().filter(|&&o| o != peer.id()) {
            peer.meeting.set_view(other, 640, 360).unwrap();
        }
    }

    let enough = |peers: &[Peer]| {
        peers.iter().all(|p| {
            ids.iter().filter(|&&o| o != p.id()).all(|&o| {
                let t = p.recorder.track(o);
                t.stamps_in_order >= 45 && t.audio_analysed() >= Duration::from_secs(2)
            })
        })
    };
    let flowed = eventually(Duration::from_secs(40), || enough(&peers)).await;

    let mut report = String::new();
    for p in &peers {
        for (i, &o) in ids.iter().enumerate().filter(|(_, o)| **o != p.id()) {
            let t = p.recorder.track(o);
            let chirps = t.chirps(&chirp_for(&peers[i].name));
            let stats = p.meeting.stats().get(&o).copied().unwrap_or_default();
            report.push_str(&format!(
                "{} <- {}: in order {}, out of order {}, repeated {}, gaps {} ({} missing), unreadable {}, freezes {}, chirps {chirps}, {stats:?}\n",
                p.name, peers[i].name, t.stamps_in_order, t.stamps_out_of_order, t.stamps_repeated, t.stamp_gaps,
                t.frames_missing, t.unreadable_stamps, t.freezes
            ));
            assert!(flowed, "media did not flow in time:\n{report}");
            assert_eq!(t.stamps_out_of_order, 0, "{report}");
            // Every frame number missing here was skipped by the sender
            // (its camera queue or encoder, when the machine is busy),
            // none lost on the way.
            let sent = peers[i].meeting.send_stats();
            let skipped_at_source = sent.frames_skipped
                + (0..3)
                    .map(|l| sent.frames_offered[l] - sent.frames_encoded[l])
                    .sum::<u64>();
            assert!(
                t.frames_missing <= skipped_at_source,
                "{} missing but the sender skipped only {skipped_at_source} ({sent:?}): {report}",
                t.frames_missing
            );
            // Two seconds hold 20 sweeps. On a loaded machine capture and
            // playout threads wake late (the microphone queue drops, the
            // jitter buffer conceals or skips), so sweeps get cut: 7 to 20,
            // once fewer than 5, were seen at load averages of 10–14. A few
            // are enough to tell whose voice it is: other chirps score zero.
            assert!(chirps >= 3, "chirps of {} heard: {report}", peers[i].name);
            let wrong = if i == 0 { 1 } else { 0 };
            if chirp_for(&peers[wrong].name).sweep(0.0) != chirp_for(&peers[i].name).sweep(0.0) {
                assert_eq!(t.chirps(&chirp_for(&peers[wrong].name)), 0, "{report}");
            }
        }
    }
    println!("{report}");
    // Shown at 640×360, each gets the top simulcast layer (full size).
    for p in &peers {
        for &o in ids.iter().filter(|&&o| o != p.id()) {
            let mut latest = p.meeting.video(o);
            let top = eventually(Duration::from_secs(10), || {
                latest
                    .borrow_and_update()
                    .as_ref()
                    .is_some_and(|f| (f.width(), f.height()) == (640, 360))
            })
            .await;
            assert!(top, "{} gets {o}'s top layer", p.name);
        }
    }
    // The speaker played the mix: both others' chirps are in it.
    let mix = played.samples();
    assert!(
        mix.len() >= 48_000,
        "a second or more played: {}",
        mix.len()
    );
    let tail = &mix[mix.len() - 48_000..];
    for other in &peers[1..] {
        let found = ChirpDetector::new(&chirp_for(&other.name), 0.5)
            .find_all(tail)
            .len();
        assert!(
            found >= 3,
            "{}'s chirps in the speaker's mix: {found}",
            other.name
        );
    }
    // The audio-level extension reaches the SFU: everyone is told who speaks.
    for p in &mut peers {
        let mut speakers = Vec::new();
        while let Ok(e) = p.events.try_recv() {
            if let MeetingEvent::ActiveSpeaker(who) = e {
                speakers.push(who);
            }
        }
        assert!(
            speakers.iter().any(|s| ids.contains(s)),
            "{} heard of an active speaker: {speakers:?}",
            p.name
        );
    }
    for p in peers {
        p.meeting.leave().await.unwrap();
    }
}
