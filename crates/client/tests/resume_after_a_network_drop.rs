//! A client whose signalling connection drops resumes its seat and sends
//! a fresh offer; media flows again both ways.

mod support;

use std::time::Duration;

use confab_client::{ConnectionState, MeetingEvent};
use support::{Peer, Server, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_client_resumes_its_seat_and_its_frames_keep_advancing() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    let mut ana = Peer::join(&server, &code, "Ana", true).await;
    let ben = Peer::join(&server, &code, "Ben", true).await;
    let (a, b) = (ana.id(), ben.id());
    ana.meeting.set_view(b, 640, 360).unwrap();
    ben.meeting.set_view(a, 640, 360).unwrap();
    let flowing = |p: &Peer, from: u64, n: u64| p.recorder.track(from).stamps_in_order >= n;
    assert!(
        eventually(Duration::from_secs(20), || flowing(&ben, a, 15)
            && flowing(&ana, b, 15))
        .await,
        "media flows before the drop"
    );

    ana.drain();
    ana.meeting.simulate_network_drop().unwrap();
    ana.expect("reconnecting", |e| {
        *e == MeetingEvent::Connection(ConnectionState::Reconnecting)
    })
    .await;
    let joined = ana
        .expect("joined again", |e| matches!(e, MeetingEvent::Joined { .. }))
        .await;
    let MeetingEvent::Joined { you, .. } = joined else {
        unreachable!()
    };
    assert_eq!(you.id, a, "the same seat");
    ana.expect("connected", |e| {
        *e == MeetingEvent::Connection(ConnectionState::Connected)
    })
    .await;
    let lines = server.server.signalling().hub().lines_in_use();
    assert_eq!(lines, 2, "no second line is taken");

    let (seen_by_ben, seen_by_ana) = (
        ben.recorder.track(a).last_stamp.unwrap(),
        ana.recorder.track(b).stamps_in_order,
    );
    let advanced = eventually(Duration::from_secs(20), || {
        ben.recorder.track(a).last_stamp.unwrap() >= seen_by_ben + 15
            && ana.recorder.track(b).stamps_in_order >= seen_by_ana + 15
    })
    .await;
    assert!(
        advanced,
        "frames advance after the resume: Ben sees Ana at {:?} (was {seen_by_ben}), Ana saw {} of Ben (was {seen_by_ana})",
        ben.recorder.track(a).last_stamp,
        ana.recorder.track(b).stamps_in_order
    );
    assert_eq!(ben.recorder.track(a).stamps_out_of_order, 0);
    ana.meeting.leave().await.unwrap();
    ben.meeting.leave().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_media_path_keeps_the_seat_and_frames_flow_again() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    let mut ana = Peer::join(&server, &code, "Ana", true).await;
    let mut ben = Peer::join(&server, &code, "Ben", true).await;
    let (a, b) = (ana.id(), ben.id());
    let flowing = |p: &Peer, from: u64, n: u64| p.recorder.track(from).stamps_in_order >= n;
    assert!(
        eventually(Duration::from_secs(20), || flowing(&ben, a, 15)
            && flowing(&ana, b, 15))
        .await,
        "media flows before the restart"
    );
    ana.drain();
    ben.drain();
    ana.meeting.restart_media().unwrap();
    // A second offer replaces the first: Ben sees Ana's slots freed.
    ben.expect("Ana's slots freed", |e| {
        *e == MeetingEvent::MediaEnded { participant: a }
    })
    .await;
    ana.expect("media again", |e| *e == MeetingEvent::MediaConnected)
        .await;
    let (by_ben, by_ana) = (
        ben.recorder.track(a).last_stamp.unwrap(),
        ana.recorder.track(b).last_stamp.unwrap(),
    );
    let advanced = eventually(Duration::from_secs(20), || {
        ben.recorder.track(a).last_stamp.unwrap() >= by_ben + 15
            && ana.recorder.track(b).last_stamp.unwrap() >= by_ana + 15
    })
    .await;
    assert!(advanced, "frames advance both ways after the restart");
    assert_eq!(ben.recorder.track(a).stamps_out_of_order, 0);
    assert_eq!(server.server.signalling().hub().lines_in_use(), 2);
    ana.meeting.leave().await.unwrap();
    ben.meeting.leave().await.unwrap();
}
