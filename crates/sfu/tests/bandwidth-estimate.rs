//! Per subscriber, the TWCC bandwidth estimate caps the layers it gets:
//! a subscriber behind a narrow link drops to a layer that fits, at a
//! keyframe, while another subscriber keeps the top layer, and climbs
//! back when the link widens.

mod common;

use std::time::Duration;

use common::World;
use confab_sfu::View;
use confab_sfu::test_client::Received;

const BIG: View = View::Tile {
    width: 1280,
    height: 720,
};

/// The layer of the last `n` video packets a subscriber received.
fn recent_layers(world: &World, subscriber: u64, n: usize) -> Vec<u8> {
    let mid = world.video_slot(subscriber);
    let video: &[Received] = world.client(subscriber).received_in(&mid);
    video[video.len().saturating_sub(n)..]
        .iter()
        .filter_map(|r| r.tag.map(|t| t.0))
        .collect()
}

#[test]
fn a_subscriber_behind_a_narrow_link_gets_a_layer_that_fits_it() {
    let mut world = World::lossless();
    world.follow_wanted = true;
    world.join(1, 7, true, 2);
    world.join(2, 7, false, 1);
    world.join(3, 7, false, 1);
    world.connect_all();
    for subscriber in [2, 3] {
        world.sfu.set_view(subscriber, 1, BIG).expect("known peers");
    }
    world.drive_sfu();
    world.run(Duration::from_secs(3));
    for subscriber in [2, 3] {
        let layers = recent_layers(&world, subscriber, 30);
        assert!(
            !layers.is_empty() && layers.iter().all(|l| *l == 2),
            "{subscriber} gets the top layer on a wide link: {layers:?}"
        );
    }

    // Subscriber 2's link narrows to 200 kbit/s: the top layer (about
    // 340 kbit/s with headers) and the middle one (about 225) no longer fit.
    let addr = world.client(2).addr;
    let now = world.now;
    world.down.limit(addr, 200_000, now);
    world.run(Duration::from_secs(5));
    let settled = world.client(2).received_in(&world.video_slot(2)).len();
    world.run(Duration::from_secs(10));
    // Layers nobody receives are paused; their cost must not be forgotten,
    // or a paused layer looks free, is picked, and is dropped again.
    let mid = world.video_slot(2);
    let since: Vec<u8> = world.client(2).received_in(&mid)[settled..]
        .iter()
        .filter_map(|r| r.tag.map(|t| t.0))
        .collect();
    let switches = since.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(
        switches, 0,
        "once settled, the narrow subscriber stays on one layer: {since:?}"
    );

    let layers = recent_layers(&world, 2, 60);
    assert!(
        !layers.is_empty() && layers.iter().all(|l| *l == 0),
        "the narrow subscriber was moved to the low layer: {layers:?}"
    );
    // The bottleneck drops packets and RTX repairs them late: judge the
    // switch in sequence order.
    let mid = world.video_slot(2);
    let mut video: Vec<&Received> = world.client(2).received_in(&mid).iter().collect();
    video.sort_by_key(|r| r.seq);
    video.dedup_by_key(|r| r.seq);
    let last_high = video
        .iter()
        .rposition(|r| r.tag.is_some_and(|t| t.0 != 0))
        .expect("the top layer arrived before");
    let start = video[last_high + 1];
    assert!(start.keyframe, "switched down at a keyframe: {start:?}");
    let layers = recent_layers(&world, 3, 60);
    assert!(
        layers.iter().all(|l| *l == 2),
        "the wide subscriber keeps the top layer: {layers:?}"
    );

    // The link widens again: the estimator probes up to what the tile
    // wants, and the subscriber gets the top layer back.
    let now = world.now;
    world.down.limit(addr, 20_000_000, now);
    world.run(Duration::from_secs(20));
    let layers = recent_layers(&world, 2, 30);
    assert!(
        !layers.is_empty() && layers.iter().all(|l| *l == 2),
        "back on the top layer: {layers:?}"
    );
}
