//! Joining and leaving a room: pairing receive slots with publishers.

use crate::peer::Slot;
use crate::sfu::Sfu;
use crate::{PeerId, RoomId, SfuEvent, SfuOutput};

impl Sfu {
    /// Pairs a peer whose media lines are now known with everyone in its room.
    pub(crate) fn join_room(&mut self, peer: PeerId) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.joined = true;
        state.learn_payload_types();
        let room_id = state.room;
        let room = self.rooms.entry(room_id).or_default();
        let others = room.members.clone();
        room.members.push(peer);
        for other in others {
            self.pair(other, peer, true);
            self.pair(peer, other, true);
        }
        // Speaker changes are announced once; a newcomer needs the current one.
        if let Some(current) = self.rooms.get(&room_id).and_then(|r| r.speaker.current()) {
            let event = SfuEvent::ActiveSpeaker {
                room: room_id,
                peer: current,
            };
            self.out.push_back(SfuOutput::Event(event));
        }
        self.replan_now();
    }

    /// Gives `subscriber` a free audio and video slot for `publisher`,
    /// for each kind it publishes and is not yet received in. Returns
    /// false when a slot was missing.
    fn pair(&mut self, subscriber: PeerId, publisher: PeerId, report: bool) -> bool {
        let Some(source) = self.peers.get(&publisher) else {
            return true;
        };
        let has_audio = source.publication.audio.is_some();
        let has_video = source.publication.video.is_some();
        let Some(sink) = self.peers.get_mut(&subscriber) else {
            return true;
        };
        let assign = |slots: &mut Vec<Slot>, wanted: bool| {
            if !wanted || slots.iter().any(|s| s.fed_by(publisher)) {
                return (None, true);
            }
            match slots.iter_mut().find(|s| s.feed.is_none()) {
                Some(slot) => {
                    slot.assign(publisher);
                    (Some(slot.mid), true)
                }
                None => (None, false),
            }
        };
        let (audio, audio_ok) = assign(&mut sink.audio_slots, has_audio);
        let (video, video_ok) = assign(&mut sink.video_slots, has_video);
        if audio.is_some() || video.is_some() {
            self.out.push_back(SfuOutput::Event(SfuEvent::Subscribed {
                subscriber,
                publisher,
                audio,
                video,
            }));
        }
        let complete = audio_ok && video_ok;
        if !complete && report {
            let (shown, others) = self.shown(subscriber);
            self.out.push_back(SfuOutput::Event(SfuEvent::NoFreeSlot {
                subscriber,
                publisher,
                shown,
                others,
            }));
        }
        complete
    }

    /// How many of the other members of its room `subscriber` receives
    /// (in at least one slot), and how many others there are.
    fn shown(&self, subscriber: PeerId) -> (usize, usize) {
        let Some(sink) = self.peers.get(&subscriber) else {
            return (0, 0);
        };
        let others: Vec<PeerId> = self
            .rooms
            .get(&sink.room)
            .map(|r| {
                r.members
                    .iter()
                    .copied()
                    .filter(|m| *m != subscriber)
                    .collect()
            })
            .unwrap_or_default();
        let received = |p: PeerId| {
            let mut slots = sink.audio_slots.iter().chain(&sink.video_slots);
            slots.any(|s| s.fed_by(p))
        };
        let shown = others.iter().filter(|p| received(**p)).count();
        (shown, others.len())
    }

    /// Gives slots freed in `subscriber` to members it does not receive
    /// yet, in joining order.
    fn fill_free_slots(&mut self, subscriber: PeerId, room_id: RoomId) {
        let Some(room) = self.rooms.get(&room_id) else {
            return;
        };
        let members = room.members.clone();
        for publisher in members.into_iter().filter(|m| *m != subscriber) {
            if !self.pair(subscriber, publisher, false) {
                break;
            }
        }
    }

    /// Frees what the room's other members held for a peer that is gone.
    pub(crate) fn leave_room(&mut self, peer: PeerId, room_id: RoomId) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        room.members.retain(|m| *m != peer);
        room.speaker.forget(peer);
        let members = room.members.clone();
        if members.is_empty() {
            self.rooms.remove(&room_id);
        }
        for member in members {
            let Some(state) = self.peers.get_mut(&member) else {
                continue;
            };
            state.views.remove(&peer);
            let mut freed = false;
            for slot in state
                .audio_slots
                .iter_mut()
                .chain(state.video_slots.iter_mut())
            {
                if slot.feed.as_ref().is_some_and(|f| f.publisher == peer) {
                    slot.feed = None;
                    slot.rewriter.end_segment();
                    freed = true;
                }
            }
            if freed {
                self.out.push_back(SfuOutput::Event(SfuEvent::Unsubscribed {
                    subscriber: member,
                    publisher: peer,
                }));
                self.fill_free_slots(member, room_id);
            }
        }
        self.replan_now();
    }
}
