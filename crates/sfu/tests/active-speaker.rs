//! The active speaker follows RFC 6464 audio levels, with hysteresis.

mod common;

use std::time::Duration;

use common::World;
use confab_sfu::SfuEvent;

fn speakers_since(world: &World, from: usize) -> Vec<u64> {
    world
        .events_since(from)
        .filter_map(|e| match e {
            SfuEvent::ActiveSpeaker { room: 7, peer } => Some(*peer),
            _ => None,
        })
        .collect()
}

#[test]
fn the_loudest_participant_becomes_active_speaker_and_a_cough_does_not_steal_it() {
    let mut world = World::lossless();
    for id in 1..=3 {
        world.join(id, 7, true, 2);
        world.client_mut(id).audio_level = -90;
    }
    world.connect_all();
    world.client_mut(2).audio_level = -20;
    let mark = world.events.len();
    world.run(Duration::from_secs(2));
    assert_eq!(speakers_since(&world, mark), vec![2]);

    // Participant 3 coughs for 200 ms: not long enough to take over.
    let mark = world.events.len();
    world.client_mut(3).audio_level = -5;
    world.run(Duration::from_millis(200));
    world.client_mut(3).audio_level = -90;
    world.run(Duration::from_secs(1));
    assert_eq!(speakers_since(&world, mark), Vec::<u64>::new());

    // Participant 2 stops and 3 talks: 3 takes over once.
    let mark = world.events.len();
    world.client_mut(2).audio_level = -90;
    world.client_mut(3).audio_level = -25;
    world.run(Duration::from_secs(2));
    assert_eq!(speakers_since(&world, mark), vec![3]);
}

/// Someone who joins while a speaker holds the floor is told who it is,
/// not left waiting for the next change.
#[test]
fn a_late_joiner_learns_the_current_speaker() {
    let mut world = World::lossless();
    world.join(1, 7, true, 2);
    world.client_mut(1).audio_level = -20;
    world.connect_all();
    world.run(Duration::from_secs(2));
    assert_eq!(
        speakers_since(&world, 0),
        vec![1],
        "alone, still the speaker"
    );

    let mark = world.events.len();
    world.join(2, 7, true, 2);
    world.client_mut(2).audio_level = -90;
    world.connect_all();
    world.run(Duration::from_secs(1));
    assert_eq!(speakers_since(&world, mark), vec![1]);
}
