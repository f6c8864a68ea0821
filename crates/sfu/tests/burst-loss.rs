//! A publisher's uplink loses a burst. Its subscribers resume at a fresh
//! keyframe that follows the last packet they were sent, with no gap in
//! between: a gap would have their receivers wait out several rounds of
//! NACK for stale packets before showing anything.

mod common;

use std::time::Duration;

use common::World;
use common::link::Impairment;
use confab_sfu::Rid;

#[test]
fn after_a_lost_burst_subscribers_resume_at_a_keyframe_without_a_gap() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.join(2, 7, false, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));
    let mid = world.video_slot(2);
    let layer = Rid::from("l");
    let asked_before = world.client(1).keyframe_requests.get(&layer).copied();
    let received_before = world.client(2).received[&mid].len();
    assert!(received_before > 20, "video flows before the burst");

    world.up.impairment = Impairment {
        loss: 1.0,
        ..Impairment::default()
    };
    world.run(Duration::from_millis(600));
    world.up.impairment = Impairment::default();
    world.run(Duration::from_secs(1));

    let asked_after = world.client(1).keyframe_requests.get(&layer).copied();
    assert!(
        asked_after.unwrap_or(0) > asked_before.unwrap_or(0),
        "the SFU asks the publisher for a keyframe when the burst ends"
    );
    let video = &world.client(2).received[&mid];
    let last_before = &video[received_before - 1];
    let first_after = &video[received_before];
    assert!(
        first_after.keyframe,
        "the first packet after the burst starts a keyframe, not a frame that needs the lost ones"
    );
    assert_eq!(
        first_after.seq,
        last_before.seq + 1,
        "the stream goes on without a gap the subscriber would wait on"
    );
    let frames = |r: &confab_sfu::test_client::Received| r.tag.map(|t| t.1);
    assert!(
        frames(first_after) > frames(last_before).map(|f| f + 10),
        "what resumes is new, not the burst retransmitted"
    );
    assert!(
        video[received_before..]
            .windows(2)
            .all(|w| w[1].seq == w[0].seq + 1),
        "and stays continuous"
    );
}
