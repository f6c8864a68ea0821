//! One participant's connection: its `Rtc`, what it publishes, and the
//! slots in which it receives the others.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use str0m::bwe::Bitrate;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Direction, MediaAdded, MediaKind, Mid, Pt, Rid};
use str0m::rtp::Ssrc;
use str0m::{Candidate, Rtc};

use crate::ids::IdMap;
use crate::layers::{LayerInfo, View};
use crate::rewrite::Rewriter;
use crate::{PeerId, RoomId, SfuConfig, SfuError};

pub(crate) const AUDIO_CLOCK: u32 = 48_000;
pub(crate) const VIDEO_CLOCK: u32 = 90_000;

#[derive(Debug)]
pub(crate) struct Peer {
    pub(crate) room: RoomId,
    pub(crate) rtc: Rtc,
    pub(crate) ufrag: String,
    /// Remote addresses that carried its traffic: all are forgotten with it.
    pub(crate) addrs: Vec<SocketAddr>,
    pub(crate) added_at: Instant,
    pub(crate) connected: bool,
    /// Its media lines are known and it has been paired with the room.
    pub(crate) joined: bool,
    /// When its `Rtc` next wants `Input::Timeout`.
    pub(crate) timeout: Instant,
    /// Waiting in the SFU's queue to be polled.
    pub(crate) dirty: bool,
    /// When it was last polled.
    pub(crate) driven_at: Option<Instant>,
    /// Packets written to it and not yet seen leaving (an estimate: RTX
    /// and padding leaving count too). While some are, a timeout str0m's
    /// pacer asks for at once is given at once.
    pub(crate) unsent: u32,
    /// Media packets written to it since it connected.
    pub(crate) forwarded: u64,
    pub(crate) publication: Publication,
    pub(crate) audio_slots: Vec<Slot>,
    pub(crate) video_slots: Vec<Slot>,
    /// How this peer shows each publisher; absent means a default tile.
    pub(crate) views: HashMap<PeerId, View>,
    /// TWCC estimate of what can be sent to it, bits per second.
    pub(crate) bandwidth: Option<u64>,
    /// What its estimator was last told to probe for, bits per second.
    pub(crate) desired_bitrate: u64,
    pub(crate) opus_pt: Option<Pt>,
    pub(crate) vp8_pt: Option<Pt>,
    /// Which incoming SSRC is which media line and layer.
    streams: IdMap<Ssrc, (Mid, Option<Rid>)>,
}

/// What a peer sends.
#[derive(Debug, Default)]
pub(crate) struct Publication {
    pub(crate) audio: Option<Mid>,
    pub(crate) video: Option<Mid>,
    pub(crate) layers: Vec<Layer>,
    /// What was last reported in `LayersWanted` (`None`: nothing yet).
    pub(crate) wanted: Option<Vec<Rid>>,
}

/// One simulcast layer as it arrives (a single `None` rid without simulcast).
#[derive(Debug)]
pub(crate) struct Layer {
    pub(crate) info: LayerInfo,
    pub(crate) bytes_since_tick: u64,
    pub(crate) last_keyframe_request: Option<Instant>,
    /// A keyframe was wanted within [`KEYFRAME_MIN_INTERVAL`] of the last
    /// request and none has come since: ask when the interval is over.
    ///
    /// [`KEYFRAME_MIN_INTERVAL`]: crate::forward::KEYFRAME_MIN_INTERVAL
    pub(crate) keyframe_owed: bool,
    /// When its last packet arrived.
    pub(crate) last_packet: Option<Instant>,
    /// The highest sequence number that has arrived.
    pub(crate) last_seq: Option<u64>,
    /// Since when the publisher has been asked to send it (`LayersWanted`).
    pub(crate) wanted_since: Option<Instant>,
    /// Asked for and not sent: not chosen for anyone until then.
    pub(crate) stalled_until: Option<Instant>,
}

/// A receive slot of a subscriber.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) mid: Mid,
    /// Lives as long as the slot, not the feed: the slot's SSRC carries
    /// one continuous sequence whoever feeds it.
    pub(crate) rewriter: Rewriter,
    pub(crate) feed: Option<Feed>,
}

/// What feeds a slot: one publisher, through one layer at a time.
#[derive(Debug)]
pub(crate) struct Feed {
    pub(crate) publisher: PeerId,
    /// The layer being forwarded (video; audio uses `None` throughout).
    pub(crate) current: Option<Rid>,
    /// The layer wanted; forwarding switches to it at its next keyframe.
    pub(crate) target: Option<Rid>,
    /// Forwarding has been stopped on purpose (hidden tile).
    pub(crate) paused: bool,
    /// When a keyframe for `target` was last asked for.
    pub(crate) keyframe_asked: Option<Instant>,
}

impl Feed {
    pub(crate) fn new(publisher: PeerId) -> Self {
        Self {
            publisher,
            current: None,
            target: None,
            paused: false,
            keyframe_asked: None,
        }
    }
}

impl Peer {
    /// Builds the server side of a connection and answers the client's offer.
    pub(crate) fn answer(
        now: Instant,
        room: RoomId,
        config: &SfuConfig,
        offer_sdp: &str,
    ) -> Result<(Self, String), SfuError> {
        if config.candidates.is_empty() {
            return Err(SfuError::NoCandidates);
        }
        let offer = SdpOffer::from_sdp_string(offer_sdp)?;
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            // Forward packets as they are: no depacketizing, no frame buffer.
            .set_rtp_mode(true)
            .enable_bwe(Some(Bitrate::bps(config.initial_bitrate)))
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        for addr in &config.candidates {
            let candidate = Candidate::host(*addr, "udp")?;
            rtc.add_local_candidate(candidate);
        }
        let answer = rtc.sdp_api().accept_offer(offer)?;
        let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        let peer = Self {
            room,
            rtc,
            ufrag,
            addrs: Vec::new(),
            added_at: now,
            connected: false,
            joined: false,
            timeout: now,
            dirty: false,
            driven_at: None,
            publication: Publication::default(),
            audio_slots: Vec::new(),
            video_slots: Vec::new(),
            views: HashMap::new(),
            bandwidth: None,
            desired_bitrate: 0,
            unsent: 0,
            forwarded: 0,
            opus_pt: None,
            vp8_pt: None,
            streams: IdMap::default(),
        };
        Ok((peer, answer.to_sdp_string()))
    }

    /// Sorts a negotiated media line into publication or receive slot.
    pub(crate) fn add_media(&mut self, media: &MediaAdded) {
        let receiving = matches!(media.direction, Direction::RecvOnly | Direction::SendRecv);
        match (media.kind, receiving) {
            (MediaKind::Audio, true) if self.publication.audio.is_none() => {
                self.publication.audio = Some(media.mid);
            }
            (MediaKind::Video, true) if self.publication.video.is_none() => {
                self.publication.video = Some(media.mid);
                self.publication.layers = simulcast_rids(media)
                    .into_iter()
                    .map(|rid| Layer {
                        info: LayerInfo {
                            rid,
                            size: None,
                            bitrate: 0,
                        },
                        bytes_since_tick: 0,
                        last_keyframe_request: None,
                        keyframe_owed: false,
                        last_packet: None,
                        last_seq: None,
                        wanted_since: None,
                        stalled_until: None,
                    })
                    .collect();
            }
            (MediaKind::Audio, false) => self.audio_slots.push(Slot::new(media.mid, AUDIO_CLOCK)),
            (MediaKind::Video, false) => self.video_slots.push(Slot::new(media.mid, VIDEO_CLOCK)),
            // A second sending line of a kind is not part of the protocol.
            _ => {}
        }
    }

    /// Whether str0m has reported its media lines yet.
    pub(crate) fn has_media(&self) -> bool {
        let p = &self.publication;
        p.audio.is_some()
            || p.video.is_some()
            || !self.audio_slots.is_empty()
            || !self.video_slots.is_empty()
    }

    /// Caches the negotiated payload types once the media lines are known.
    pub(crate) fn learn_payload_types(&mut self) {
        let pt_of = |codec| {
            self.rtc
                .codec_config()
                .find(|p| p.spec().codec == codec)
                .map(|p| p.pt())
        };
        self.opus_pt = pt_of(Codec::Opus);
        self.vp8_pt = pt_of(Codec::Vp8);
    }

    /// The media line and layer an incoming SSRC belongs to.
    pub(crate) fn stream_of(&mut self, ssrc: Ssrc) -> Option<(Mid, Option<Rid>)> {
        if let Some(known) = self.streams.get(&ssrc) {
            return Some(*known);
        }
        let stream = self
            .rtc
            .direct_api()
            .stream_rx(&ssrc)
            .map(|s| (s.mid(), s.rid()))?;
        self.streams.insert(ssrc, stream);
        Some(stream)
    }

    pub(crate) fn layer_mut(&mut self, rid: Rid) -> Option<&mut Layer> {
        self.publication
            .layers
            .iter_mut()
            .find(|l| l.info.rid == rid)
    }
}

impl Slot {
    fn new(mid: Mid, clock_rate: u32) -> Self {
        Self {
            mid,
            rewriter: Rewriter::new(clock_rate),
            feed: None,
        }
    }

    /// Starts feeding `publisher` into this slot from its next keyframe.
    pub(crate) fn assign(&mut self, publisher: PeerId) {
        self.rewriter.end_segment();
        self.feed = Some(Feed::new(publisher));
    }

    /// Whether `publisher` feeds this slot.
    pub(crate) fn fed_by(&self, publisher: PeerId) -> bool {
        self.feed.as_ref().is_some_and(|f| f.publisher == publisher)
    }

    /// Still waiting for a keyframe to start or to switch layers.
    pub(crate) fn awaiting_keyframe(&self) -> bool {
        self.feed
            .as_ref()
            .is_some_and(|f| !f.paused && (!self.rewriter.is_started() || f.current != f.target))
    }
}

/// The rids a simulcast line receives, lowest first as offered; one
/// pseudo-layer named `_` for a client without simulcast.
fn simulcast_rids(media: &MediaAdded) -> Vec<Rid> {
    let rids: Vec<Rid> = media
        .simulcast
        .as_ref()
        .map(|s| if s.recv.is_empty() { &s.send } else { &s.recv })
        .map(|layers| layers.iter().map(|l| l.rid).collect())
        .unwrap_or_default();
    if rids.is_empty() {
        vec![Rid::from(NO_SIMULCAST)]
    } else {
        rids
    }
}

/// The rid standing for a video line without simulcast; never on the wire.
pub(crate) const NO_SIMULCAST: &str = "_";

/// The layer name the SFU uses for an incoming stream's rid.
pub(crate) fn layer_rid(rid: Option<Rid>) -> Rid {
    rid.unwrap_or_else(|| Rid::from(NO_SIMULCAST))
}

/// The rid str0m knows a layer by.
pub(crate) fn wire_rid(rid: Rid) -> Option<Rid> {
    (&*rid != NO_SIMULCAST).then_some(rid)
}
