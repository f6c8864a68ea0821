//! RTP from each publisher reaches every other participant, in order,
//! and NACK/RTX on both legs repairs video lost on a 5% lossy network.

mod common;

use std::time::Duration;

use common::World;
use common::link::Impairment;
use confab_sfu::test_client::Received;
use confab_sfu::{Mid, SfuEvent};

/// The (audio, video) slots through which `subscriber` receives `publisher`.
fn slots_of(world: &World, subscriber: u64, publisher: u64) -> (Mid, Mid) {
    world
        .events
        .iter()
        .find_map(|(_, e)| match e {
            SfuEvent::Subscribed {
                subscriber: s,
                publisher: p,
                audio: Some(a),
                video: Some(v),
            } if *s == subscriber && *p == publisher => Some((*a, *v)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("not subscribed: {:?}", world.events))
}

fn received(world: &World, subscriber: u64, mid: Mid) -> &[Received] {
    world
        .client(subscriber)
        .received
        .get(&mid)
        .map_or(&[], Vec::as_slice)
}

#[test]
fn audio_and_video_reach_every_other_participant_in_order() {
    let mut world = World::lossless();
    for id in 1..=3 {
        world.join(id, 7, true, 2);
    }
    world.connect_all();
    world.run(Duration::from_secs(3));

    for subscriber in 1..=3 {
        for publisher in (1..=3).filter(|p| *p != subscriber) {
            let (audio, video) = slots_of(&world, subscriber, publisher);
            let audio = received(&world, subscriber, audio);
            assert!(
                audio.len() > 100,
                "{subscriber}<-{publisher}: {} audio packets",
                audio.len()
            );
            let gaps: Vec<(u64, u64)> = audio
                .windows(2)
                .filter(|w| w[1].seq != w[0].seq + 1)
                .map(|w| (w[0].seq, w[1].seq))
                .collect();
            assert!(
                gaps.is_empty(),
                "audio in order, no gaps: {gaps:?} of {}",
                audio.len()
            );

            let video = received(&world, subscriber, video);
            assert!(
                video.len() > 60,
                "{subscriber}<-{publisher}: {} video packets",
                video.len()
            );
            assert!(video[0].keyframe, "a subscriber starts at a keyframe");
            assert!(
                video.windows(2).all(|w| w[1].seq == w[0].seq + 1),
                "video in order, no gaps"
            );
            let tags: Vec<(u8, u32, u8)> = video.iter().filter_map(|r| r.tag).collect();
            assert_eq!(tags.len(), video.len(), "payloads arrive untouched");
            assert!(
                tags.iter().all(|t| t.0 == 0),
                "a default tile gets the low layer"
            );
            assert!(
                tags.windows(2).all(|w| w[1].1 == w[0].1 + 1),
                "every frame, in order"
            );
        }
    }
}

#[test]
fn nack_and_rtx_recover_video_lost_on_both_legs() {
    let lossy = Impairment {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        loss: 0.05,
    };
    let mut world = World::new(42, lossy, lossy);
    world.join(1, 7, true, 1);
    world.join(2, 7, true, 1);
    world.connect_all();
    world.run(Duration::from_secs(6));

    let (_, video) = slots_of(&world, 2, 1);
    let video = received(&world, 2, video);
    let mut seqs: Vec<u64> = video.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    let (first, last) = (seqs[0], seqs[seqs.len() - 1]);
    // The last half second may still be in repair.
    let settled = last - 30;
    let missing = (first..settled)
        .filter(|s| seqs.binary_search(s).is_err())
        .count();
    assert!(
        world.up.dropped > 20 && world.down.dropped > 20,
        "the links did drop packets"
    );
    assert!(
        settled - first > 100,
        "enough video to judge: {}",
        settled - first
    );
    assert_eq!(
        missing, 0,
        "every packet up to {settled} repaired, from {first}"
    );
    let frames: Vec<u32> = {
        let mut by_seq: Vec<&Received> = video.iter().collect();
        by_seq.sort_by_key(|r| r.seq);
        by_seq.dedup_by_key(|r| r.seq);
        by_seq.iter().filter_map(|r| r.tag.map(|t| t.1)).collect()
    };
    assert!(
        frames.windows(2).all(|w| w[1] >= w[0]),
        "in sequence order, frames never go back"
    );
}

#[test]
fn a_late_subscriber_gets_a_keyframe_asked_for_on_its_behalf() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.connect_all();
    // Long past its first keyframes.
    world.run(Duration::from_secs(2));
    assert_eq!(world.client(1).keyframe_requests.get(&"l".into()), None);

    world.join(2, 7, false, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));
    assert!(
        world.client(1).keyframe_requests[&"l".into()] >= 1,
        "PLI on subscribe"
    );
    let (_, video) = slots_of(&world, 2, 1);
    let video = received(&world, 2, video);
    assert!(
        video.len() > 20 && video[0].keyframe,
        "starts at the keyframe"
    );
}

/// str0m's pacer releases one packet per timeout and names the next a
/// microsecond on; a server's timer fires a millisecond later at best. A
/// frame that arrives at once must leave at once, as far as the pacer's
/// budget allows, not a packet per driver wake-up.
#[test]
fn a_frame_that_arrives_at_once_is_forwarded_in_the_same_poll() {
    let mut world = World::lossless();
    world.join(1, 3, true, 1);
    world.join(2, 3, false, 1);
    world.connect_all();
    world
        .sfu
        .set_view(
            2,
            1,
            confab_sfu::View::Tile {
                width: 1280,
                height: 720,
            },
        )
        .expect("known peers");
    world.client_mut(1).packets_per_frame = [1, 2, 5];
    world.run(Duration::from_secs(2));

    // One frame period of the publisher's datagrams, held back...
    world.capture = Some(Vec::new());
    world.run(Duration::from_millis(40));
    let held = world.capture.take().expect("capturing");
    // ...then arriving together, and the SFU polled once at that instant.
    let now = world.now;
    let subscriber = world.client(2).addr;
    let before = world.sfu.forwarded();
    for d in &held {
        world
            .sfu
            .handle_receive(now, d.source, d.destination, &d.bytes);
    }
    let mut out = 0;
    loop {
        match world.sfu.poll(now) {
            confab_sfu::SfuOutput::Transmit {
                destination, bytes, ..
            } if destination == subscriber && common::is_rtp(&bytes) => out += 1,
            confab_sfu::SfuOutput::Timeout(_) => break,
            _ => {}
        }
    }
    let forwarded = world.sfu.forwarded() - before;
    assert!(forwarded >= 6, "a top-layer frame and audio: {forwarded}");
    assert_eq!(out, forwarded, "all of it left in the same poll");
}
