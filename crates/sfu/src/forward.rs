//! The hot path: one RTP packet from a publisher, written to every
//! subscriber that receives it, without decoding.

use std::time::{Duration, Instant};

use str0m::media::{KeyframeRequest, KeyframeRequestKind, MediaKind, Rid};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};

use crate::PeerId;
use crate::peer::{layer_rid, wire_rid};
use crate::sfu::Sfu;
use crate::vp8::{self, Vp8Info};

/// A publisher is asked for a keyframe on one layer at most this often,
/// however many subscribers switch to it at once.
pub(crate) const KEYFRAME_MIN_INTERVAL: Duration = Duration::from_millis(200);
/// A layer silent this long that comes back with packets missing lost a
/// burst, not a packet: its subscribers would wait for retransmissions of
/// stale frames (several rounds of NACK) before showing anything, so they
/// resume at a fresh keyframe instead.
const RESYNC_AFTER: Duration = Duration::from_millis(250);

/// What every subscriber's copy of one incoming packet shares.
struct Ingress<'a> {
    publisher: PeerId,
    kind: MediaKind,
    rid: Rid,
    packet: &'a RtpPacket,
    vp8: Option<Vp8Info>,
}

impl Sfu {
    pub(crate) fn on_rtp(&mut self, publisher: PeerId, packet: RtpPacket, now: Instant) {
        let Some(source) = self.peers.get_mut(&publisher) else {
            return;
        };
        let Some((mid, rid)) = source.stream_of(packet.header.ssrc) else {
            return;
        };
        let room_id = source.room;
        let kind = if Some(mid) == source.publication.audio {
            MediaKind::Audio
        } else if Some(mid) == source.publication.video {
            MediaKind::Video
        } else {
            return;
        };
        let rid = layer_rid(rid);
        let vp8 = (kind == MediaKind::Video)
            .then(|| vp8::inspect(&packet.payload))
            .flatten();
        let mut burst_lost = false;
        if let Some(layer) = source.layer_mut(rid).filter(|_| kind == MediaKind::Video) {
            let seq = *packet.seq_no;
            burst_lost = layer.last_seq.is_some_and(|last| seq > last + 1)
                && layer
                    .last_packet
                    .is_some_and(|at| now.saturating_duration_since(at) >= RESYNC_AFTER);
            layer.last_seq = layer.last_seq.max(Some(seq));
            if vp8.is_some_and(|v| v.keyframe_start) {
                layer.keyframe_owed = false;
            }
            layer.bytes_since_tick += packet.payload.len() as u64;
            layer.last_packet = Some(now);
            if let Some(size) = vp8.and_then(|v| v.size) {
                layer.info.size = Some(size);
            }
        }
        if burst_lost {
            self.resync(publisher, rid, now);
        }
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        if let Some(level) = packet.header.ext_vals.audio_level {
            room.speaker.observe(now, publisher, level);
        }
        // Taken out and put back so subscribers can be borrowed one by one.
        let members = std::mem::take(&mut room.members);
        let ingress = Ingress {
            publisher,
            kind,
            rid,
            packet: &packet,
            vp8,
        };
        for &subscriber in members.iter().filter(|m| **m != publisher) {
            if self.forward_to(subscriber, &ingress, now) {
                self.forwarded += 1;
                self.mark_dirty(subscriber);
            }
        }
        if let Some(room) = self.rooms.get_mut(&room_id) {
            room.members = members;
        }
    }

    /// Writes one packet to one subscriber's slot; true if written.
    fn forward_to(&mut self, subscriber: PeerId, ingress: &Ingress, now: Instant) -> bool {
        let Some(sink) = self.peers.get_mut(&subscriber) else {
            return false;
        };
        if !sink.connected {
            return false;
        }
        let video = ingress.kind == MediaKind::Video;
        let (slots, pt) = if video {
            (&mut sink.video_slots, sink.vp8_pt)
        } else {
            (&mut sink.audio_slots, sink.opus_pt)
        };
        let Some(pt) = pt else { return false };
        let Some(slot) = slots.iter_mut().find(|s| {
            s.feed
                .as_ref()
                .is_some_and(|f| f.publisher == ingress.publisher)
        }) else {
            return false;
        };
        let packet = ingress.packet;
        let in_seq = *packet.seq_no;
        let in_ts = packet.header.timestamp;
        let picture_id = ingress.vp8.and_then(|v| v.descriptor.picture_id());
        let feed = slot.feed.as_mut().expect("found by its feed");
        if video {
            let keyframe = ingress.vp8.is_some_and(|v| v.keyframe_start);
            let switch = feed.target == Some(ingress.rid)
                && (feed.current != feed.target || !slot.rewriter.is_started());
            if switch && keyframe {
                let same_source = feed.current == feed.target;
                feed.current = feed.target;
                feed.keyframe_asked = None;
                slot.rewriter
                    .start_segment(now, in_seq, in_ts, picture_id, same_source);
            }
            if feed.current != Some(ingress.rid) {
                return false;
            }
        } else if !slot.rewriter.is_started() {
            slot.rewriter.start_segment(now, in_seq, in_ts, None, false);
        }
        let Some(out) = slot.rewriter.map(now, in_seq, in_ts, picture_id) else {
            return false;
        };
        let ext = ExtensionValues {
            audio_level: packet.header.ext_vals.audio_level,
            voice_activity: packet.header.ext_vals.voice_activity,
            video_orientation: packet.header.ext_vals.video_orientation,
            ..Default::default()
        };
        let mut write = RtpWrite::new(pt, out.seq.into(), out.ts, now, packet.payload.clone())
            .marker(packet.header.marker)
            .ext_vals(ext)
            .nackable(video);
        if let (Some(info), Some(pid)) = (ingress.vp8, out.picture_id) {
            // A 7-bit picture ID keeps its width: wrap the new one to fit.
            let patch = info.descriptor.patch().picture_id(pid).build();
            let patch = patch.or_else(|_| info.descriptor.patch().picture_id(pid & 0x7f).build());
            if let Ok(patch) = patch {
                write = write.vp8_patch(patch);
            }
        }
        let mid = slot.mid;
        match sink.rtc.direct_api().stream_tx_by_mid(mid, None) {
            Some(stream) => {
                stream.write_rtp(write);
                sink.unsent += 1;
                sink.forwarded += 1;
                true
            }
            None => false,
        }
    }

    /// Sends the keyframe requests owed since their interval is over.
    pub(crate) fn pay_owed_keyframes(&mut self, now: Instant) {
        let owed: Vec<(PeerId, Rid)> = self
            .peers
            .iter()
            .flat_map(|(&id, peer)| {
                peer.publication
                    .layers
                    .iter()
                    .filter(|l| l.keyframe_owed)
                    .map(move |l| (id, l.info.rid))
            })
            .collect();
        for (publisher, rid) in owed {
            self.request_keyframe(publisher, rid, now);
        }
    }

    /// Makes everyone receiving `rid` of `publisher` wait for its next
    /// keyframe, and asks for one.
    fn resync(&mut self, publisher: PeerId, rid: Rid, now: Instant) {
        tracing::debug!(publisher, %rid, "layer lost a burst; resuming at a keyframe");
        for sink in self.peers.values_mut() {
            for slot in &mut sink.video_slots {
                let Some(feed) = slot.feed.as_mut() else {
                    continue;
                };
                if feed.publisher == publisher && feed.current == Some(rid) {
                    slot.rewriter.interrupt();
                    feed.keyframe_asked = Some(now);
                }
            }
        }
        self.request_keyframe(publisher, rid, now);
    }

    /// A subscriber's PLI goes to the layer it receives (or waits for).
    pub(crate) fn on_keyframe_request(
        &mut self,
        subscriber: PeerId,
        request: KeyframeRequest,
        now: Instant,
    ) {
        let Some(sink) = self.peers.get(&subscriber) else {
            return;
        };
        let feed = sink
            .video_slots
            .iter()
            .find(|s| s.mid == request.mid)
            .and_then(|s| s.feed.as_ref());
        let Some((publisher, Some(rid))) = feed.map(|f| (f.publisher, f.current.or(f.target)))
        else {
            return;
        };
        self.request_keyframe(publisher, rid, now);
    }

    /// Sends a PLI for one layer of a publisher, at most every
    /// [`KEYFRAME_MIN_INTERVAL`]. False if the layer has not arrived yet.
    pub(crate) fn request_keyframe(&mut self, publisher: PeerId, rid: Rid, now: Instant) -> bool {
        let Some(source) = self.peers.get_mut(&publisher) else {
            return false;
        };
        let Some(mid) = source.publication.video else {
            return false;
        };
        let Some(layer) = source.layer_mut(rid) else {
            return false;
        };
        if let Some(at) = layer
            .last_keyframe_request
            .filter(|at| now.saturating_duration_since(*at) < KEYFRAME_MIN_INTERVAL)
        {
            // The keyframe already asked for may have gone by before
            // whoever wants this one was waiting for it: owe a request
            // rather than drop it (it was a half-second wait for a joiner).
            layer.keyframe_owed = true;
            let due = at + KEYFRAME_MIN_INTERVAL;
            self.keyframes_due = Some(self.keyframes_due.map_or(due, |d| d.min(due)));
            return true;
        }
        let mut api = source.rtc.direct_api();
        let Some(stream) = api.stream_rx_by_mid(mid, wire_rid(rid)) else {
            return false;
        };
        stream.request_keyframe(KeyframeRequestKind::Pli);
        if let Some(layer) = source.layer_mut(rid) {
            layer.last_keyframe_request = Some(now);
            layer.keyframe_owed = false;
        }
        self.mark_dirty(publisher);
        true
    }
}
