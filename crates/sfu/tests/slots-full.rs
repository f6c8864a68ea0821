//! A subscriber whose offer has too few receive slots is told whom it
//! misses and how many it receives, and a slot that frees up goes to
//! someone it does not receive yet.

mod common;

use std::time::Duration;

use common::World;
use confab_sfu::SfuEvent;

#[test]
fn a_subscriber_without_a_free_slot_is_told_and_gets_the_next_one() {
    let mut world = World::lossless();
    // One after the other, so the room's order is known.
    for (id, slots) in [(1, 2), (2, 2), (3, 1)] {
        // 3 has room for one other participant only.
        world.join(id, 7, true, slots);
        world.connect_all();
        world.run(Duration::from_millis(300));
    }

    let full: Vec<&SfuEvent> = world
        .events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, SfuEvent::NoFreeSlot { .. }))
        .collect();
    assert_eq!(
        full,
        vec![&SfuEvent::NoFreeSlot {
            subscriber: 3,
            publisher: 2,
            shown: 1,
            others: 2
        }]
    );
    let publishers =
        |w: &World| -> Vec<u64> { w.sfu.subscriptions(3).iter().map(|s| s.publisher).collect() };
    assert_eq!(publishers(&world), vec![1]);

    // 1 leaves: 3's slots go to 2, and 2's media arrives in them.
    let mark = world.events.len();
    let before: usize = world.client(3).received.values().map(Vec::len).sum();
    let index = world.clients.iter().position(|c| c.id == 1).expect("1");
    world.leave(index);
    world.run(Duration::from_secs(1));
    let subscribed = world.events_since(mark).find_map(|e| match e {
        SfuEvent::Subscribed {
            subscriber: 3,
            publisher: 2,
            audio: Some(audio),
            video: Some(video),
        } => Some((*audio, *video)),
        _ => None,
    });
    let (audio, video) = subscribed.expect("3 now receives 2");
    assert_eq!(publishers(&world), vec![2]);
    let client = world.client(3);
    let after = client.received_in(&audio).len() + client.received_in(&video).len();
    assert!(
        after > before + 50,
        "2's media arrives: {before} -> {after}"
    );
}
