//! Joining and leaving a room: pairing receive slots with publishers.

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
            self.pair(other, peer);
            self.pair(peer, other);
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

    /// Gives `subscriber` a free audio and video slot for `publisher`.
    fn pair(&mut self, subscriber: PeerId, publisher: PeerId) {
        let Some(source) = self.peers.get(&publisher) else {
            return;
        };
        let has_audio = source.publication.audio.is_some();
        let has_video = source.publication.video.is_some();
        let Some(sink) = self.peers.get_mut(&subscriber) else {
            return;
        };
        let assign = |slots: &mut Vec<crate::peer::Slot>, wanted: bool| {
            let slot = slots
                .iter_mut()
                .find(|s| s.feed.is_none())
                .filter(|_| wanted)?;
            slot.assign(publisher);
            Some(slot.mid)
        };
        let audio = assign(&mut sink.audio_slots, has_audio);
        let video = assign(&mut sink.video_slots, has_video);
        if (has_audio && audio.is_none()) || (has_video && video.is_none()) {
            self.out.push_back(SfuOutput::Event(SfuEvent::NoFreeSlot {
                subscriber,
                publisher,
            }));
        }
        if audio.is_some() || video.is_some() {
            self.out.push_back(SfuOutput::Event(SfuEvent::Subscribed {
                subscriber,
                publisher,
                audio,
                video,
            }));
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
            }
        }
        self.replan_now();
    }
}
