//! Leaving, and a peer that stops answering, drop every piece of
//! per-peer state: many join/leave cycles leave nothing behind.

mod common;

use std::time::Duration;

use common::World;
use confab_sfu::{CloseReason, SfuEvent, SfuStats, View};

const BIG: View = View::Tile {
    width: 1280,
    height: 720,
};

#[test]
fn two_hundred_join_leave_cycles_leave_no_state() {
    let mut world = World::lossless();
    world.join(1, 7, true, 2);
    world.connect_all();
    world.run(Duration::from_millis(200));
    let baseline = world.sfu.stats();
    assert_eq!((baseline.peers, baseline.rooms, baseline.feeds), (1, 1, 0));

    for cycle in 0..200u64 {
        let id = 1_000 + cycle;
        // Alternate between the long-lived room and a room of its own.
        let room = if cycle % 2 == 0 { 7 } else { 8 };
        world.join(id, room, true, 2);
        world.connect_all();
        if room == 7 {
            // Views of each other, which must go with the leaver too.
            world.sfu.set_view(1, id, BIG).expect("known peers");
            world
                .sfu
                .set_view(id, 1, View::Hidden)
                .expect("known peers");
        }
        world.run(Duration::from_millis(100));
        let index = world
            .clients
            .iter()
            .position(|c| c.id == id)
            .expect("joined");
        world.leave(index);
        world.run(Duration::from_millis(20));
        assert_eq!(world.sfu.stats(), baseline, "after cycle {cycle}");
    }
    let freed = world
        .events
        .iter()
        .filter(|(_, e)| matches!(e, SfuEvent::Unsubscribed { subscriber: 1, .. }))
        .count();
    assert_eq!(
        freed, 100,
        "the stayer's slots were freed for every leaver of its room"
    );

    world.leave(0);
    assert_eq!(world.sfu.stats(), SfuStats::default());
}

#[test]
fn a_peer_that_stops_answering_is_closed_and_its_slots_freed() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.join(2, 7, true, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));

    // Peer 2's machine vanishes: no leave, no more packets.
    let index = world
        .clients
        .iter()
        .position(|c| c.id == 2)
        .expect("joined");
    world.clients.remove(index);
    world.run(Duration::from_secs(60));

    let closed = world.events.iter().find_map(|(_, e)| match e {
        SfuEvent::PeerClosed { peer: 2, reason } => Some(*reason),
        _ => None,
    });
    assert_eq!(closed, Some(CloseReason::IceDisconnected));
    assert!(world.events.iter().any(|(_, e)| matches!(
        e,
        SfuEvent::Unsubscribed {
            subscriber: 1,
            publisher: 2
        }
    )));
    let stats = world.sfu.stats();
    assert_eq!((stats.peers, stats.rooms), (1, 1));
}

#[test]
fn a_peer_that_never_connects_is_dropped() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.clients.clear();
    world.run(Duration::from_secs(40));
    assert!(
        world.events.iter().any(|(_, e)| matches!(
            e,
            SfuEvent::PeerClosed {
                peer: 1,
                reason: CloseReason::ConnectTimeout
            }
        )),
        "{:?}",
        world.events
    );
    assert_eq!(world.sfu.stats(), SfuStats::default());
}

#[test]
fn a_peer_that_closes_its_connection_is_closed_and_its_slots_freed() {
    let mut world = World::lossless();
    world.join(1, 7, true, 1);
    world.join(2, 7, true, 1);
    world.connect_all();
    world.run(Duration::from_secs(1));

    // Peer 2 hangs up properly: RTCP BYE and a DTLS close_notify.
    world.client_mut(2).rtc.close().expect("closes");
    world.run(Duration::from_secs(2));

    let closed = world.events.iter().find_map(|(_, e)| match e {
        SfuEvent::PeerClosed { peer: 2, reason } => Some(*reason),
        _ => None,
    });
    assert_eq!(closed, Some(CloseReason::Closed), "{:?}", world.events);
    assert!(world.events.iter().any(|(_, e)| matches!(
        e,
        SfuEvent::Unsubscribed {
            subscriber: 1,
            publisher: 2
        }
    )));
    let stats = world.sfu.stats();
    assert_eq!((stats.peers, stats.rooms, stats.feeds), (1, 1, 0));
}
