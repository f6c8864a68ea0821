//! What the SFU revisits every tick: bitrates, each subscriber's layers,
//! keyframe retries, which layers anyone wants, and active speakers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::media::Rid;

use crate::layers::{self, LayerInfo, View};
use crate::peer::Layer;
use crate::sfu::Sfu;
use crate::{PeerId, SfuEvent, SfuOutput};

/// How a subscriber shows a publisher it said nothing about: a thumbnail.
const DEFAULT_VIEW: View = View::Tile {
    width: 320,
    height: 180,
};
/// The least room for audio in a subscriber's wanted rate (each forwarded
/// stream counts once there are more than a few).
const AUDIO_HEADROOM: u64 = 200_000;
/// A keyframe asked for and not seen by then is asked for again (the
/// PLI or the keyframe's first packet may have been lost).
const KEYFRAME_RETRY: Duration = Duration::from_millis(500);
/// A layer asked for that has sent nothing for this long is not being
/// made: browsers drop simulcast layers their camera is too small for or
/// their uplink cannot carry. Long enough for a paused layer to restart.
const LAYER_STALL: Duration = Duration::from_millis(1500);
/// How long a stalled layer is left out before it is tried again (the
/// camera or the uplink may have grown).
const LAYER_RETRY: Duration = Duration::from_secs(10);

/// Bits per second one forwarded audio stream takes on the wire: Opus at
/// up to 32 kbit/s in 50 packets a second, each with about 80 bytes of
/// RTP, SRTP, UDP and IP around it.
const AUDIO_STREAM_BITRATE: u64 = 32_000 + 50 * 80 * 8;
/// Header overhead on video, relative to the payload bitrates measured.
const VIDEO_OVERHEAD: f64 = 1.1;

/// What video may take of a subscriber's estimate. str0m paces at 1.1
/// times the estimate; media that fills more than that queues in the
/// pacer without bound, so audio and headers must fit beside the video.
fn video_budget(estimate: u64, audio_streams: usize) -> u64 {
    let audio = AUDIO_STREAM_BITRATE * audio_streams as u64;
    (estimate.saturating_sub(audio) as f64 / VIDEO_OVERHEAD) as u64
}

impl Sfu {
    pub(crate) fn tick(&mut self, now: Instant, elapsed: Option<Duration>) {
        self.expire_unconnected(now);
        if let Some(elapsed) = elapsed.filter(|e| !e.is_zero()) {
            self.measure_layers(elapsed);
        }
        self.detect_stalls(now);
        let subscribers: Vec<PeerId> = self.peers.keys().copied().collect();
        for subscriber in subscribers {
            self.plan(subscriber, now);
        }
        self.report_wanted(now);
        let mut changes = Vec::new();
        for (room, state) in &mut self.rooms {
            if let Some(peer) = state.speaker.decide(now) {
                changes.push(SfuEvent::ActiveSpeaker { room: *room, peer });
            }
        }
        self.out.extend(changes.into_iter().map(SfuOutput::Event));
    }

    /// Turns bytes counted since the last tick into smoothed bitrates.
    fn measure_layers(&mut self, elapsed: Duration) {
        for peer in self.peers.values_mut() {
            for layer in &mut peer.publication.layers {
                let bytes = std::mem::take(&mut layer.bytes_since_tick);
                // A layer that sent nothing (paused, or its publisher's
                // link is down) keeps what it cost when it last flowed: a
                // rate decaying to zero would make it look free, get it
                // chosen and resumed, and then dropped again at its real
                // cost — switching layers, and asking for keyframes, every
                // few ticks.
                if bytes == 0 {
                    continue;
                }
                let rate = (bytes * 8) as f64 / elapsed.as_secs_f64();
                // About a second of memory at 100 ms ticks; the first
                // measurement stands alone.
                let old = layer.info.bitrate as f64;
                layer.info.bitrate = if old == 0.0 {
                    rate as u64
                } else {
                    (old * 0.9 + rate * 0.1) as u64
                };
            }
        }
    }

    /// Chooses the layer of every publisher one subscriber receives, and
    /// asks for the keyframes that starting or switching needs.
    fn plan(&mut self, subscriber: PeerId, now: Instant) {
        let Some(sink) = self.peers.get(&subscriber) else {
            return;
        };
        let feeds: Vec<(usize, PeerId, View)> = sink
            .video_slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| {
                let publisher = slot.feed.as_ref()?.publisher;
                let view = sink.views.get(&publisher).copied().unwrap_or(DEFAULT_VIEW);
                Some((i, publisher, view))
            })
            .collect();
        let ladders: Vec<Vec<LayerInfo>> = feeds
            .iter()
            .map(|(_, publisher, _)| self.ladder(*publisher, now))
            .collect();
        let mut choices: Vec<Option<usize>> = feeds
            .iter()
            .zip(&ladders)
            .map(|((_, _, view), ladder)| layers::for_view(ladder, *view))
            .collect();
        // What the tiles would take on an unlimited link: the estimator
        // probes up to it, so a link that recovers is noticed.
        let costs: Vec<u64> = choices
            .iter()
            .zip(&ladders)
            .filter_map(|(c, l)| c.map(|pos| l[layers::ordered(l)[pos]].bitrate))
            .collect();
        // No chosen layer has a price yet (no feed yet, or nothing measured
        // since the feeds began): what the tiles take is unknown, not zero.
        let priced = costs.iter().any(|c| *c > 0);
        let desired: u64 = costs.iter().sum();
        let audio = sink.audio_slots.iter().filter(|s| s.feed.is_some()).count();
        if let Some(estimate) = sink.bandwidth {
            let refs: Vec<&[LayerInfo]> = ladders.iter().map(Vec::as_slice).collect();
            let current: Vec<Option<usize>> = feeds
                .iter()
                .zip(&ladders)
                .map(|((index, _, _), ladder)| {
                    let rid = sink.video_slots[*index].feed.as_ref()?.target?;
                    let order = layers::ordered(ladder);
                    order.iter().position(|&i| ladder[i].rid == rid)
                })
                .collect();
            choices =
                layers::choose_steadily(&refs, &choices, &current, video_budget(estimate, audio));
        }
        let targets = choices
            .iter()
            .zip(&ladders)
            .map(|(choice, ladder)| choice.map(|pos| ladder[layers::ordered(ladder)[pos]].rid));
        let asks = self.apply_targets(subscriber, &feeds, targets, now);
        if priced {
            self.want_bitrate(subscriber, desired, audio);
        }
        for (publisher, rid) in asks {
            self.request_keyframe(publisher, rid, now);
        }
    }

    /// Lets a subscriber's bandwidth estimator probe for `desired` bits
    /// per second of video (with headroom for RTP overhead), plus its
    /// `audio_streams`.
    ///
    /// str0m caps its probes at twice this and takes a probe's result as
    /// the estimate even when it is far below the last one. A probe aimed
    /// below what is already being sent is made of forwarded media, spaced
    /// by the publishers and by the probe's own low rate, and so "measures"
    /// about its target: aimed too low (before any layer has been
    /// measured, the video part looked free), it dragged a 3 Mbit/s
    /// estimate on a lossless link down to 0.3. Hence never aim below the
    /// audio and layers actually forwarded, and not at all until a chosen
    /// layer has a price: str0m does not probe before it is aimed.
    fn want_bitrate(&mut self, subscriber: PeerId, desired: u64, audio_streams: usize) {
        let Some(sink) = self.peers.get_mut(&subscriber) else {
            return;
        };
        // Enough that a layer waiting for room to spare gets it (see
        // `layers::choose_steadily`), and a tenth more.
        let climb = desired as f64 * VIDEO_OVERHEAD / layers::UPGRADE_SHARE;
        let audio = (AUDIO_STREAM_BITRATE * audio_streams as u64).max(AUDIO_HEADROOM);
        let desired = (climb * 1.1) as u64 + audio;
        // Rates move a little every tick; re-aim only on a real change.
        let last = sink.desired_bitrate;
        if last.abs_diff(desired) <= last / 10 {
            return;
        }
        sink.desired_bitrate = desired;
        tracing::debug!(subscriber, desired, "estimator aimed");
        sink.rtc
            .bwe()
            .set_bitrate(Bitrate::ZERO, Bitrate::bps(desired));
        self.mark_dirty(subscriber);
    }

    /// The layers of `publisher` that may be chosen: all but stalled ones
    /// (all of them if every one is stalled: something beats nothing).
    fn ladder(&self, publisher: PeerId, now: Instant) -> Vec<LayerInfo> {
        let Some(source) = self.peers.get(&publisher) else {
            return Vec::new();
        };
        let layers = &source.publication.layers;
        let live = |l: &&Layer| l.stalled_until.is_none_or(|until| now >= until);
        let mut pick: Vec<LayerInfo> = layers.iter().filter(live).map(|l| l.info.clone()).collect();
        if pick.is_empty() {
            pick = layers.iter().map(|l| l.info.clone()).collect();
        }
        layers::estimate_unmeasured(&mut pick);
        pick
    }

    /// Marks layers asked for but not arriving as stalled.
    fn detect_stalls(&mut self, now: Instant) {
        let quiet = |at: Option<Instant>| {
            at.is_none_or(|t| now.saturating_duration_since(t) >= LAYER_STALL)
        };
        for peer in self.peers.values_mut() {
            for layer in &mut peer.publication.layers {
                let asked_long_enough = layer
                    .wanted_since
                    .is_some_and(|since| now.saturating_duration_since(since) >= LAYER_STALL);
                if asked_long_enough && quiet(layer.last_packet) {
                    tracing::debug!(rid = %layer.info.rid, "layer asked for but not sent; left out for a while");
                    layer.stalled_until = Some(now + LAYER_RETRY);
                    layer.wanted_since = None;
                }
            }
        }
    }

    /// Sets each feed's target layer; returns the keyframes to ask for.
    fn apply_targets(
        &mut self,
        subscriber: PeerId,
        feeds: &[(usize, PeerId, View)],
        targets: impl Iterator<Item = Option<Rid>>,
        now: Instant,
    ) -> Vec<(PeerId, Rid)> {
        let mut asks = Vec::new();
        let Some(sink) = self.peers.get_mut(&subscriber) else {
            return asks;
        };
        let connected = sink.connected;
        for (&(index, publisher, _), target) in feeds.iter().zip(targets) {
            let slot = &mut sink.video_slots[index];
            let Some(feed) = slot.feed.as_mut() else {
                continue;
            };
            if feed.target != target {
                feed.target = target;
                feed.keyframe_asked = None;
            }
            feed.paused = target.is_none();
            if feed.paused && feed.current.take().is_some() {
                slot.rewriter.end_segment();
            }
            let due = feed
                .keyframe_asked
                .is_none_or(|at| now.saturating_duration_since(at) >= KEYFRAME_RETRY);
            if connected && due && slot.awaiting_keyframe() {
                if let Some(feed) = slot.feed.as_mut() {
                    feed.keyframe_asked = Some(now);
                }
                asks.extend(target.map(|rid| (publisher, rid)));
            }
        }
        asks
    }

    /// Tells each publisher which of its layers someone receives or is
    /// about to, when that set changes.
    fn report_wanted(&mut self, now: Instant) {
        let mut wanted: HashMap<PeerId, Vec<Rid>> = HashMap::new();
        for sink in self.peers.values() {
            for feed in sink.video_slots.iter().filter_map(|s| s.feed.as_ref()) {
                let rids = wanted.entry(feed.publisher).or_default();
                rids.extend(feed.current.iter().chain(feed.target.iter()));
            }
        }
        for (id, source) in &mut self.peers {
            if !source.joined || source.publication.video.is_none() {
                continue;
            }
            let mine = wanted.get(id);
            for layer in &mut source.publication.layers {
                let asked = mine.is_some_and(|m| m.contains(&layer.info.rid));
                if !asked {
                    layer.wanted_since = None;
                } else if layer.wanted_since.is_none() {
                    layer.wanted_since = Some(now);
                }
            }
            let rids: Vec<Rid> = source
                .publication
                .layers
                .iter()
                .map(|l| l.info.rid)
                .filter(|rid| mine.is_some_and(|m| m.contains(rid)))
                .collect();
            if source.publication.wanted.as_ref() != Some(&rids) {
                source.publication.wanted = Some(rids.clone());
                self.out.push_back(SfuOutput::Event(SfuEvent::LayersWanted {
                    publisher: *id,
                    rids,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_video_budget_leaves_room_for_audio_and_headers() {
        // 2 Mbit/s with nine audio streams: what is left, less headers.
        let budget = video_budget(2_000_000, 9);
        assert_eq!(budget, ((2_000_000 - 9 * 64_000) as f64 / 1.1) as u64);
        assert!(budget + 9 * AUDIO_STREAM_BITRATE < 2_000_000);
        assert_eq!(video_budget(100_000, 9), 0, "audio first");
    }
}
