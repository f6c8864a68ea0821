//! The [`Sfu`] type: peers, rooms, the one-port demultiplexer and the
//! poll loop. What happens to media is in `forward.rs` and `policy.rs`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::media::{Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, PacerReason, Reason};

use crate::ids::IdMap;
use crate::layers::View;
use crate::peer::Peer;
use crate::speaker::SpeakerDetector;
use crate::{CloseReason, PeerId, RoomId, SfuConfig, SfuError, SfuEvent, SfuOutput, stun};

/// How often layer choice, keyframe retries and the active speaker are
/// revisited: often enough to follow a bandwidth estimate, rarely enough
/// to cost nothing.
pub(crate) const TICK: Duration = Duration::from_millis(100);
/// At most this many packets leave one peer per poll at one instant
/// (a keyframe's worth); the rest go at its next wake.
const BURST_TIMEOUTS: usize = 64;
/// A peer that has not completed ICE and DTLS by then is dropped.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The forwarding core. See the crate documentation for the driving
/// contract and the subscription design.
#[derive(Debug)]
pub struct Sfu {
    pub(crate) config: SfuConfig,
    pub(crate) peers: IdMap<PeerId, Peer>,
    pub(crate) rooms: IdMap<RoomId, Room>,
    by_ufrag: HashMap<String, PeerId>,
    by_addr: HashMap<SocketAddr, PeerId>,
    /// Peers to poll: they had input, were written to, or their timeout passed.
    pub(crate) dirty: Vec<PeerId>,
    pub(crate) out: VecDeque<SfuOutput>,
    next_tick: Option<Instant>,
    /// When the earliest owed keyframe request may be sent.
    pub(crate) keyframes_due: Option<Instant>,
    last_tick: Option<Instant>,
    /// Reused buffer for a peer's events while the peer is borrowed.
    events: Vec<Event>,
    /// RTP packets written to subscribers since the start.
    pub(crate) forwarded: u64,
}

/// Puts `peer` on the list of peers to drive, once.
fn queue_to_drive(dirty: &mut Vec<PeerId>, peer: PeerId, state: &mut Peer) {
    if !state.dirty {
        state.dirty = true;
        dirty.push(peer);
    }
}

#[derive(Debug, Default)]
pub(crate) struct Room {
    /// In joining order, which is the order slots are paired in.
    pub(crate) members: Vec<PeerId>,
    pub(crate) speaker: SpeakerDetector,
}

impl Sfu {
    pub fn new(config: SfuConfig) -> Self {
        Self {
            config,
            peers: IdMap::default(),
            rooms: IdMap::default(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            dirty: Vec::new(),
            out: VecDeque::new(),
            next_tick: None,
            keyframes_due: None,
            last_tick: None,
            events: Vec::new(),
            forwarded: 0,
        }
    }

    /// Adds a peer from its offer and returns the SDP answer. The peer
    /// joins `room` (and is paired with its members) on the next poll.
    pub fn add_peer(
        &mut self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        offer_sdp: &str,
    ) -> Result<String, SfuError> {
        if self.peers.contains_key(&peer) {
            return Err(SfuError::DuplicatePeer(peer));
        }
        let (state, answer) = Peer::answer(now, room, &self.config, offer_sdp)?;
        self.by_ufrag.insert(state.ufrag.clone(), peer);
        self.peers.insert(peer, state);
        self.mark_dirty(peer);
        Ok(answer)
    }

    /// Gives `peer` a new connection from a new offer (a client that
    /// reconnected): the old one, if any, is dropped only once the new
    /// offer has been accepted, so a bad offer leaves a working
    /// connection alone. The others see [`SfuEvent::Unsubscribed`] for the
    /// old connection and [`SfuEvent::Subscribed`] once the new one joins.
    pub fn replace_peer(
        &mut self,
        now: Instant,
        peer: PeerId,
        room: RoomId,
        offer_sdp: &str,
    ) -> Result<String, SfuError> {
        let (state, answer) = Peer::answer(now, room, &self.config, offer_sdp)?;
        // Not known is the usual case: nothing to replace.
        let _ = self.remove_peer(peer);
        self.by_ufrag.insert(state.ufrag.clone(), peer);
        self.peers.insert(peer, state);
        self.mark_dirty(peer);
        Ok(answer)
    }

    /// Removes a peer and everything the SFU holds for it; the others
    /// get [`SfuEvent::Unsubscribed`] for it.
    pub fn remove_peer(&mut self, peer: PeerId) -> Result<(), SfuError> {
        let mut state = self
            .peers
            .remove(&peer)
            .ok_or(SfuError::UnknownPeer(peer))?;
        state.rtc.disconnect();
        self.by_ufrag.remove(&state.ufrag);
        for addr in &state.addrs {
            if self.by_addr.get(addr) == Some(&peer) {
                self.by_addr.remove(addr);
            }
        }
        self.dirty.retain(|p| *p != peer);
        self.leave_room(peer, state.room);
        Ok(())
    }

    /// Says how `subscriber` shows `publisher`; layer choice follows on
    /// the next poll.
    pub fn set_view(
        &mut self,
        subscriber: PeerId,
        publisher: PeerId,
        view: View,
    ) -> Result<(), SfuError> {
        let state = self
            .peers
            .get_mut(&subscriber)
            .ok_or(SfuError::UnknownPeer(subscriber))?;
        state.views.insert(publisher, view);
        // Re-plan now, not at the next tick: a tile just grew.
        self.replan_now();
        Ok(())
    }

    /// Feeds one datagram from the UDP socket. Returns whether it belonged
    /// to a peer; others (scans, late packets of a removed peer) are dropped.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: &[u8],
    ) -> bool {
        let Some(peer) = self.route(source, bytes) else {
            return false;
        };
        let Ok(contents) = bytes.try_into() else {
            return false;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination,
                contents,
            },
        );
        let Some(state) = self.peers.get_mut(&peer) else {
            return false;
        };
        if !state.rtc.accepts(&input) {
            return false;
        }
        if let Err(err) = state.rtc.handle_input(input) {
            tracing::debug!(peer, %err, "input refused");
        }
        if !state.addrs.contains(&source) {
            state.addrs.push(source);
            self.by_addr.insert(source, peer);
        }
        // Drained now, not at the next poll: in RTP mode str0m holds only
        // one received packet until it is polled, so a driver that feeds a
        // burst of datagrams before polling would lose all but the last.
        self.drain(peer, now);
        true
    }

    /// The peer a datagram is for: by remote address once known, by the
    /// STUN username before (and when the client's address changes).
    fn route(&self, source: SocketAddr, bytes: &[u8]) -> Option<PeerId> {
        if let Some(ufrag) = stun::local_ufrag(bytes) {
            return self.by_ufrag.get(ufrag).copied();
        }
        self.by_addr.get(&source).copied()
    }

    /// Returns the next thing to do; see the driving contract.
    pub fn poll(&mut self, now: Instant) -> SfuOutput {
        loop {
            if let Some(output) = self.out.pop_front() {
                return output;
            }
            if let Some(peer) = self.dirty.pop() {
                self.drive(peer, now);
                continue;
            }
            if self.next_tick.is_none_or(|t| t <= now) {
                self.next_tick = Some(now + TICK);
                let elapsed = self.last_tick.map(|t| now.saturating_duration_since(t));
                self.last_tick = Some(now);
                self.tick(now, elapsed);
                continue;
            }
            if self.keyframes_due.is_some_and(|t| t <= now) {
                self.keyframes_due = None;
                self.pay_owed_keyframes(now);
                continue;
            }
            if !self.collect_due(now) {
                break;
            }
        }
        let next = self.peers.values().map(|p| p.timeout).min();
        let tick = self.next_tick.unwrap_or(now);
        let at = [next, self.keyframes_due]
            .into_iter()
            .flatten()
            .fold(tick, Instant::min);
        SfuOutput::Timeout(at.max(now))
    }

    /// Queues every peer whose `Rtc` timeout has passed; false if none.
    /// Runs on every poll that finds nothing else to do, so it marks
    /// peers in place rather than collecting them first.
    fn collect_due(&mut self, now: Instant) -> bool {
        let queued = self.dirty.len();
        for (id, p) in &mut self.peers {
            // A peer driven at `now` that still wants `now` waits for
            // time to pass (str0m's pacer does that); re-driving it at the
            // same instant would spin.
            if p.timeout <= now && p.driven_at < Some(now) {
                queue_to_drive(&mut self.dirty, *id, p);
            }
        }
        self.dirty.len() > queued
    }

    pub(crate) fn mark_dirty(&mut self, peer: PeerId) {
        if let Some(state) = self.peers.get_mut(&peer) {
            queue_to_drive(&mut self.dirty, peer, state);
        }
    }

    /// Runs one peer's `Rtc` up to `now` and drains it.
    fn drive(&mut self, peer: PeerId, now: Instant) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.dirty = false;
        state.driven_at = Some(now);
        // A peer woken because packets were written to it gets a timeout at
        // once: str0m timestamps written packets in its timeout (our fork
        // does that without walking every stream), and a poll first would
        // only name that timeout, at the cost of a whole `poll_output`.
        //
        // After that first round: str0m's pacer lets one packet out per
        // timeout and asks for the next a microsecond later, even when its
        // budget would let the whole queue go (upstream always; with our fork,
        // only while a probe cluster runs). A driver's timer cannot wake
        // that soon (tokio's has millisecond resolution), so a frame of five
        // packets took five milliseconds to leave. Give it those timeouts
        // now, at the same instant, while packets we wrote wait: the pacer
        // still holds back what its budget does not allow, by naming a later
        // time. Once they are out, the pacer's last "at once" (it asks after
        // every packet) waits for the next wake, where it costs nothing extra.
        for round in 0..=BURST_TIMEOUTS {
            let Some(state) = self.peers.get_mut(&peer) else {
                return;
            };
            let due = state.timeout <= now || (round == 0 && state.unsent > 0);
            let unsent = state.unsent;
            let at_once = round > 0
                && unsent > 0
                && state.rtc.last_timeout_reason() == Reason::Pacer(PacerReason::Immediate);
            if round > 0 && !due && !at_once {
                break;
            }
            if (due || at_once) && state.rtc.handle_input(Input::Timeout(now)).is_err() {
                self.close(peer, CloseReason::Closed);
                return;
            }
            self.drain(peer, now);
            // Nothing left although we counted some: str0m dropped or
            // already sent them. Stop counting them.
            if let Some(state) = self.peers.get_mut(&peer)
                && at_once
                && state.unsent == unsent
            {
                state.unsent = 0;
                break;
            }
        }
    }

    /// Takes everything a peer's `Rtc` has to say: transmits to the
    /// queue, events handled (which may write to other peers).
    fn drain(&mut self, peer: PeerId, now: Instant) {
        let mut events = std::mem::take(&mut self.events);
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let mut fatal = false;
        while !fatal {
            match state.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    state.timeout = at;
                    break;
                }
                Ok(Output::Transmit(t)) => {
                    if stun::is_rtp(&t.contents) {
                        state.unsent = state.unsent.saturating_sub(1);
                    }
                    self.out.push_back(SfuOutput::Transmit {
                        source: t.source,
                        destination: t.destination,
                        bytes: t.contents.into(),
                    });
                }
                Ok(Output::Event(event)) => events.push(event),
                Err(err) => {
                    tracing::debug!(peer, %err, "rtc failed");
                    fatal = true;
                }
            }
        }
        for event in events.drain(..) {
            self.on_event(peer, event, now);
        }
        self.events = events;
        // Media lines arrive as events once str0m has applied the offer
        // (after connecting): pair the peer with its room then.
        if self
            .peers
            .get(&peer)
            .is_some_and(|p| !p.joined && p.has_media())
        {
            self.join_room(peer);
        }
        if fatal || self.peers.get(&peer).is_some_and(|p| !p.rtc.is_alive()) {
            self.close(peer, CloseReason::Closed);
        }
    }

    fn on_event(&mut self, peer: PeerId, event: Event, now: Instant) {
        match event {
            Event::MediaAdded(media) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    state.add_media(&media);
                }
            }
            Event::Connected => self.on_connected(peer),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                let connected = self.peers.get(&peer).is_some_and(|p| p.connected);
                let reason = if connected {
                    CloseReason::IceDisconnected
                } else {
                    CloseReason::ConnectTimeout
                };
                self.close(peer, reason);
            }
            Event::RtpPacket(packet) => self.on_rtp(peer, packet, now),
            Event::KeyframeRequest(request) => self.on_keyframe_request(peer, request, now),
            Event::EgressBitrateEstimate(str0m::bwe::BweKind::Twcc { estimate, .. }) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    tracing::debug!(peer, bps = estimate.as_u64(), "bandwidth estimate");
                    state.bandwidth = Some(estimate.as_u64());
                }
            }
            _ => {}
        }
    }

    fn on_connected(&mut self, peer: PeerId) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        state.connected = true;
        self.out
            .push_back(SfuOutput::Event(SfuEvent::Connected { peer }));
        // PLI on subscribe: what was paired before the connection came up
        // needs keyframes now, which the next tick asks for.
        self.replan_now();
    }

    /// Runs layer choice and keyframe requests on the next poll.
    pub(crate) fn replan_now(&mut self) {
        self.next_tick = None;
    }

    /// Drops a peer the SFU gave up on, and tells the server.
    pub(crate) fn close(&mut self, peer: PeerId, reason: CloseReason) {
        if self.remove_peer(peer).is_ok() {
            self.out
                .push_back(SfuOutput::Event(SfuEvent::PeerClosed { peer, reason }));
        }
    }

    /// Drops peers that never connected.
    pub(crate) fn expire_unconnected(&mut self, now: Instant) {
        let stale: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                !p.connected && now.saturating_duration_since(p.added_at) > CONNECT_TIMEOUT
            })
            .map(|(id, _)| *id)
            .collect();
        for peer in stale {
            self.close(peer, CloseReason::ConnectTimeout);
        }
    }

    /// Whom `subscriber` receives now, in which slots: what a client that
    /// reconnected its signalling must be told again.
    pub fn subscriptions(&self, subscriber: PeerId) -> Vec<Subscription> {
        let Some(sink) = self.peers.get(&subscriber) else {
            return Vec::new();
        };
        let mut out: Vec<Subscription> = Vec::new();
        let slots = sink.audio_slots.iter().map(|s| (s, true));
        for (slot, audio) in slots.chain(sink.video_slots.iter().map(|s| (s, false))) {
            let Some(publisher) = slot.feed.as_ref().map(|f| f.publisher) else {
                continue;
            };
            let at = match out.iter().position(|s| s.publisher == publisher) {
                Some(at) => at,
                None => {
                    out.push(Subscription {
                        publisher,
                        audio: None,
                        video: None,
                    });
                    out.len() - 1
                }
            };
            if audio {
                out[at].audio = Some(slot.mid);
            } else {
                out[at].video = Some(slot.mid);
            }
        }
        out
    }

    /// The layers of `publisher` last reported in [`SfuEvent::LayersWanted`].
    pub fn layers_wanted(&self, publisher: PeerId) -> Option<Vec<Rid>> {
        self.peers.get(&publisher)?.publication.wanted.clone()
    }

    /// The TWCC estimate of what can be sent to `peer`, bits per second,
    /// once there is one: for metrics and load tests.
    pub fn bandwidth(&self, peer: PeerId) -> Option<u64> {
        self.peers.get(&peer)?.bandwidth
    }

    /// How many media packets the SFU has forwarded (written to a
    /// subscriber's slot) since it started: for metrics and load tests.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }

    /// How many media packets the SFU has written to `peer`'s slots while
    /// it has been connected: for metrics and load tests.
    pub fn forwarded_to(&self, peer: PeerId) -> Option<u64> {
        self.peers.get(&peer).map(|p| p.forwarded)
    }

    /// How many peers, rooms and routing entries the SFU holds: for tests
    /// and metrics (everything is zero when everyone has left).
    pub fn stats(&self) -> SfuStats {
        SfuStats {
            peers: self.peers.len(),
            rooms: self.rooms.len(),
            routes: self.by_ufrag.len() + self.by_addr.len(),
            queued: self.dirty.len() + self.out.len(),
            feeds: self
                .peers
                .values()
                .flat_map(|p| p.audio_slots.iter().chain(&p.video_slots))
                .filter(|s| s.feed.is_some())
                .count(),
            views: self.peers.values().map(|p| p.views.len()).sum(),
            speakers: self.rooms.values().map(|r| r.speaker.len()).sum(),
        }
    }
}

/// `subscriber` receives `publisher` in these slots; see [`Sfu::subscriptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub publisher: PeerId,
    pub audio: Option<Mid>,
    pub video: Option<Mid>,
}

/// Sizes of the SFU's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SfuStats {
    pub peers: usize,
    pub rooms: usize,
    /// Entries in the demultiplexing maps (ufrags and remote addresses).
    pub routes: usize,
    /// Peers waiting to be polled plus outputs not yet taken.
    pub queued: usize,
    /// Receive slots fed by a publisher, over all subscribers.
    pub feeds: usize,
    /// Views (tile sizes) subscribers gave for publishers.
    pub views: usize,
    /// Peers the active-speaker detectors track.
    pub speakers: usize,
}
