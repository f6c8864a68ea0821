//! A client that reconnects sends a second offer: a bad one leaves its
//! working connection alone, a good one replaces it and everyone is
//! paired with the new connection again.

mod common;

use std::time::Duration;

use common::World;
use confab_sfu::{SfuError, SfuEvent, Subscription};

/// Packets `subscriber` received from anyone so far.
fn received(world: &World, subscriber: u64) -> usize {
    world
        .client(subscriber)
        .received
        .values()
        .map(Vec::len)
        .sum()
}

#[test]
fn a_bad_second_offer_leaves_the_working_connection_alone() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.join(2, 7, true, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));
    let before = (received(&world, 1), received(&world, 2));
    let stats = world.sfu.stats();

    let now = world.now;
    let refused = world.sfu.replace_peer(now, 1, 7, "v=0\r\nnot sdp");
    assert!(matches!(refused, Err(SfuError::BadSdp(_))), "{refused:?}");
    world.drive_sfu();
    assert_eq!(world.sfu.stats(), stats, "nothing was torn down");
    assert!(
        !world
            .events
            .iter()
            .any(|(_, e)| matches!(e, SfuEvent::Unsubscribed { .. })),
        "nobody lost their slots"
    );

    world.run(Duration::from_secs(1));
    assert!(received(&world, 1) > before.0 + 50, "1 still receives");
    assert!(received(&world, 2) > before.1 + 50, "1 is still received");
}

#[test]
fn a_second_offer_replaces_the_connection_and_pairs_it_again() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.join(2, 7, true, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));
    let old = world.sfu.subscriptions(2);
    assert_eq!(old.len(), 1, "{old:?}");

    let mark = world.events.len();
    world.reconnect(1, 7, 1).expect("a good offer");
    world.connect_all();
    world.run(Duration::from_secs(2));

    let events: Vec<&SfuEvent> = world.events_since(mark).collect();
    let freed = events.iter().position(|e| {
        matches!(
            e,
            SfuEvent::Unsubscribed {
                subscriber: 2,
                publisher: 1
            }
        )
    });
    let again = events.iter().position(|e| {
        matches!(
            e,
            SfuEvent::Subscribed {
                subscriber: 2,
                publisher: 1,
                ..
            }
        )
    });
    assert!(
        freed.is_some() && again > freed,
        "2 is told 1's slots are free, then where 1 arrives again: {events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            SfuEvent::Subscribed {
                subscriber: 1,
                publisher: 2,
                ..
            }
        )),
        "the new connection receives 2"
    );
    let stats = world.sfu.stats();
    assert_eq!((stats.peers, stats.rooms), (2, 1));
    let now = world.sfu.subscriptions(1);
    assert_eq!(
        now.iter().map(|s| s.publisher).collect::<Vec<_>>(),
        vec![2],
        "{now:?}"
    );
    assert!(
        received(&world, 1) > 100,
        "media flows on the new connection"
    );
    let slot = world.sfu.subscriptions(2);
    let Some(Subscription {
        video: Some(mid), ..
    }) = slot.first()
    else {
        panic!("2 receives 1: {slot:?}");
    };
    let video = world.client(2).received_in(mid);
    assert!(
        video.iter().rev().take(20).all(|r| r.tag.is_some()),
        "and 2 gets the new connection's video in its slot"
    );
}
