//! The client's WebRTC peer: str0m in RTP mode, sans-IO like str0m:
//! datagrams and time in, datagrams, events and a timeout out.
//!
//! str0m handles ICE, DTLS-SRTP, RTCP, NACK/RTX (both ways), TWCC and
//! pacing; the peer packetizes what it sends (one Opus packet per 20 ms,
//! VP8 with str0m's packetizer) and assembles what it receives itself
//! (`assemble.rs`), so a complete keyframe reaches the decoder at once
//! instead of waiting behind frames that can no longer be repaired.
//!
//! The offer follows docs/protocol.md: one sendonly audio m-line, one
//! sendonly VP8 m-line with simulcast rids `l;m;h` (lowest first), then
//! N recvonly audio and N recvonly video slots.
//!
//! # Driving contract
//!
//! After any call that changes the peer (`accept`, `receive`, `timeout`,
//! a write, a keyframe request) the driver calls [`Peer::poll`], sends the
//! transmits, acts on the events, and calls [`Peer::timeout`] at the time
//! it returned. (In RTP mode str0m holds one received packet until it is
//! polled, so the peer drains str0m after every input itself.)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use confab_media::video::Layer;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};
use str0m::unversioned::{Packetizer, Vp8Packetizer};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::assemble::{Assembled, Vp8Assembler};
use crate::error::ClientError;
use crate::session::rid_for_layer;

/// How often str0m reports statistics (packet loss for the summary).
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// Bytes of VP8 (payload descriptor included) per RTP packet: what str0m's
/// frame mode used with its default 1150-byte datagram target (1150 less
/// the 16-byte SRTP tag, rounded down to the 16-byte SRTP block). With the
/// RTP header and our extensions a datagram stays under about 1,200 bytes.
const VIDEO_PAYLOAD: usize = 1120;
/// Audio at or below this level (-dBov) is sent as not voice.
const VOICE_LEVEL: i8 = -50;

/// What the peer produced besides datagrams.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    Connected,
    /// ICE gave up or DTLS closed: the media path is gone.
    Disconnected,
    /// The SFU asks for a keyframe on our layer.
    KeyframeRequest(Layer),
    /// The peer asked for a keyframe in receive slot `mid`: frames after
    /// a loss that could not be repaired cannot be decoded without one.
    KeyframeAsked {
        mid: String,
    },
    /// An Opus packet or a whole VP8 frame in receive slot `mid`.
    Media {
        mid: String,
        data: Arc<[u8]>,
        /// Low 16 bits of the first RTP sequence number.
        seq: u16,
        /// The RTP timestamp.
        rtp_time: u32,
        /// False after an interruption: a decoder may need a keyframe.
        contiguous: bool,
        arrival: Instant,
    },
    /// Packet loss reported for receive slot `mid`, 0–1.
    Loss {
        mid: String,
        fraction: f32,
    },
}

/// What we send: our sequence numbers and packetizers, per stream.
#[derive(Debug)]
struct Outbound {
    audio_seq: u64,
    /// Per simulcast layer, indexed by `Layer as usize`.
    video_seq: [u64; 3],
    vp8: [Vp8Packetizer; 3],
    opus_pt: Option<Pt>,
    vp8_pt: Option<Pt>,
}

/// One str0m peer with our offer's layout.
#[derive(Debug)]
pub(crate) struct Peer {
    rtc: Rtc,
    audio: Mid,
    video: Mid,
    connected: bool,
    /// Receive slots and what they carry.
    slots: HashMap<Mid, MediaKind>,
    assemblers: HashMap<Mid, Vp8Assembler>,
    out: Outbound,
    transmits: Vec<(SocketAddr, Vec<u8>)>,
    events: Vec<PeerEvent>,
    /// When str0m wants the time again.
    wake: Instant,
}

impl Peer {
    /// Makes the offer for a peer reachable at `local`, with `slots`
    /// receive slots of each kind.
    pub(crate) fn offer(
        local: SocketAddr,
        slots: usize,
        now: Instant,
    ) -> Result<(Self, SdpPendingOffer, String), ClientError> {
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .set_stats_interval(Some(STATS_INTERVAL))
            .build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|e| ClientError::Media(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let mut api = rtc.sdp_api();
        let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let mut simulcast = Simulcast::new();
        for layer in [Layer::Quarter, Layer::Half, Layer::Full] {
            simulcast.add_send_layer(SimulcastLayer::new(rid_for_layer(layer)));
        }
        let video = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            None,
            None,
            Some(simulcast),
        );
        let mut receive = HashMap::new();
        for _ in 0..slots {
            for kind in [MediaKind::Audio, MediaKind::Video] {
                let mid = api.add_media(kind, Direction::RecvOnly, None, None, None);
                receive.insert(mid, kind);
            }
        }
        let (offer, pending) = api
            .apply()
            .ok_or_else(|| ClientError::Media("str0m made no offer".into()))?;
        let peer = Self {
            rtc,
            audio,
            video,
            connected: false,
            slots: receive,
            assemblers: HashMap::new(),
            out: Outbound {
                audio_seq: initial_seq(),
                video_seq: [initial_seq(), initial_seq(), initial_seq()],
                vp8: [Vp8Packetizer::default(); 3],
                opus_pt: None,
                vp8_pt: None,
            },
            transmits: Vec::new(),
            events: Vec::new(),
            wake: now,
        };
        Ok((peer, pending, offer.to_sdp_string()))
    }

    /// Applies the SFU's answer.
    pub(crate) fn accept(
        &mut self,
        pending: SdpPendingOffer,
        answer: &str,
    ) -> Result<(), ClientError> {
        let answer = SdpAnswer::from_sdp_string(answer)
            .map_err(|e| ClientError::Protocol(format!("the answer is not valid SDP: {e}")))?;
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        let pt = |codec: Codec| {
            self.rtc
                .codec_config()
                .find(|p| p.spec().codec == codec)
                .map(|p| p.pt())
        };
        self.out.opus_pt = pt(Codec::Opus);
        self.out.vp8_pt = pt(Codec::Vp8);
        Ok(())
    }

    pub(crate) fn receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: &[u8],
    ) {
        let Ok(contents) = bytes.try_into() else {
            return; // not STUN, DTLS or RTP: ignore stray datagrams
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
        if let Err(e) = self.rtc.handle_input(input) {
            tracing::debug!(error = %e, "datagram refused");
        }
        self.drain(now);
    }

    pub(crate) fn timeout(&mut self, now: Instant) {
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            tracing::debug!(error = %e, "peer timeout failed");
        }
        let mut out = Vec::new();
        let mids: Vec<Mid> = self.assemblers.keys().copied().collect();
        for mid in mids {
            if let Some(a) = self.assemblers.get_mut(&mid) {
                a.poll(now, &mut out);
            }
            self.on_assembled(mid, &mut out);
        }
        self.drain(now);
    }

    /// Datagrams to send go to `transmits`, events to `events`; returns
    /// when the peer wants the time again.
    pub(crate) fn poll(
        &mut self,
        now: Instant,
        transmits: &mut Vec<(SocketAddr, Vec<u8>)>,
        events: &mut Vec<PeerEvent>,
    ) -> Instant {
        self.drain(now);
        transmits.append(&mut self.transmits);
        events.append(&mut self.events);
        self.assemblers
            .values()
            .filter_map(Vp8Assembler::poll_timeout)
            .fold(self.wake, Instant::min)
    }

    /// Takes everything str0m has to give; `now` is the time of the input
    /// that preceded it.
    fn drain(&mut self, now: Instant) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => {
                    self.wake = at;
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    self.transmits.push((t.destination, t.contents.into()));
                }
                Ok(Output::Event(e)) => self.on_event(e, now),
                Err(e) => {
                    tracing::warn!(error = %e, "media connection failed");
                    self.events.push(PeerEvent::Disconnected);
                    self.wake = now + Duration::from_millis(100);
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::Connected => {
                self.connected = true;
                self.events.push(PeerEvent::Connected);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.connected = false;
                self.events.push(PeerEvent::Disconnected);
            }
            Event::KeyframeRequest(request) if request.mid == self.video => {
                let layer = request
                    .rid
                    .and_then(|rid| crate::session::layer_for_rid(&rid))
                    .unwrap_or(Layer::Quarter);
                self.events.push(PeerEvent::KeyframeRequest(layer));
            }
            Event::RtpPacket(packet) => self.on_rtp(packet, now),
            Event::MediaIngressStats(stats) => {
                if let Some(fraction) = stats.loss {
                    self.events.push(PeerEvent::Loss {
                        mid: stats.mid.to_string(),
                        fraction,
                    });
                }
            }
            _ => {}
        }
    }

    /// One received RTP packet (a repair arrives as the packet it repairs).
    fn on_rtp(&mut self, packet: RtpPacket, now: Instant) {
        let ssrc = packet.header.ssrc;
        let Some(mid) = self.rtc.direct_api().stream_rx(&ssrc).map(|s| s.mid()) else {
            return;
        };
        match self.slots.get(&mid) {
            // Our jitter buffer orders and conceals audio on its own clock.
            Some(MediaKind::Audio) => self.events.push(PeerEvent::Media {
                mid: mid.to_string(),
                seq: *packet.seq_no as u16,
                rtp_time: packet.header.timestamp,
                contiguous: true,
                arrival: packet.timestamp,
                data: packet.payload,
            }),
            Some(MediaKind::Video) => {
                let assembler = self.assemblers.entry(mid).or_default();
                let header = &packet.header;
                assembler.push(
                    *packet.seq_no,
                    header.timestamp,
                    header.marker,
                    &packet.payload,
                    packet.timestamp,
                );
                let mut out = Vec::new();
                assembler.poll(now, &mut out);
                self.on_assembled(mid, &mut out);
            }
            None => {}
        }
    }

    fn on_assembled(&mut self, mid: Mid, out: &mut Vec<Assembled>) {
        for assembled in out.drain(..) {
            match assembled {
                Assembled::Frame(f) => self.events.push(PeerEvent::Media {
                    mid: mid.to_string(),
                    data: f.data,
                    seq: f.seq as u16,
                    rtp_time: f.rtp_time,
                    contiguous: f.contiguous,
                    arrival: f.arrival,
                }),
                Assembled::RequestKeyframe => {
                    self.request_keyframe(&mid);
                    self.events.push(PeerEvent::KeyframeAsked {
                        mid: mid.to_string(),
                    });
                }
            }
        }
    }

    /// Sends one 20 ms Opus packet with its RFC 6464 level (-dBov).
    pub(crate) fn write_audio(&mut self, now: Instant, samples: u64, payload: &[u8], level: u8) {
        let (true, Some(pt)) = (self.connected, self.out.opus_pt) else {
            return;
        };
        let level = -(level.min(127) as i8);
        let ext = ExtensionValues {
            audio_level: Some(level),
            voice_activity: Some(level > VOICE_LEVEL),
            ..Default::default()
        };
        let seq = self.out.audio_seq;
        // RTP time is the sample count, wrapping as RTP time does.
        let write =
            RtpWrite::new(pt, seq.into(), samples as u32, now, payload.to_vec()).ext_vals(ext);
        if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(self.audio, None) {
            stream.write_rtp(write);
            self.out.audio_seq += 1;
        }
    }

    /// Sends one VP8 frame on a simulcast layer; `capture` is the frame's
    /// capture time from the stream's start.
    pub(crate) fn write_video(
        &mut self,
        now: Instant,
        layer: Layer,
        capture: Duration,
        payload: &[u8],
    ) {
        let (true, Some(pt)) = (self.connected, self.out.vp8_pt) else {
            return;
        };
        let ts = (capture.as_micros() as u64 * 9 / 100) as u32;
        let rid = Rid::from(rid_for_layer(layer));
        let index = layer as usize;
        let chunks = match self.out.vp8[index].packetize(VIDEO_PAYLOAD, payload) {
            Ok(chunks) => chunks,
            Err(e) => {
                tracing::debug!(error = %e, "VP8 packetizing failed");
                return;
            }
        };
        let mut api = self.rtc.direct_api();
        let Some(stream) = api.stream_tx_by_mid(self.video, Some(rid)) else {
            return;
        };
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let seq = self.out.video_seq[index];
            self.out.video_seq[index] += 1;
            // Nackable: str0m keeps it for RTX resends on NACK.
            let write = RtpWrite::new(pt, seq.into(), ts, now, chunk)
                .marker(i == last)
                .nackable(true);
            stream.write_rtp(write);
        }
    }

    /// Asks the SFU for a keyframe in receive slot `mid`.
    pub(crate) fn request_keyframe(&mut self, mid: &str) {
        let mid = Mid::from(mid);
        match self.rtc.direct_api().stream_rx_by_mid(mid, None) {
            Some(stream) => stream.request_keyframe(KeyframeRequestKind::Pli),
            None => tracing::debug!(%mid, "keyframe request for a slot without a stream"),
        }
    }

    /// Closes the connection (on leave or before a replacing offer).
    pub(crate) fn close(&mut self) {
        self.rtc.disconnect();
    }
}

/// A first sequence number for a send stream: unpredictable (RFC 3550
/// §5.1), and below 2^15 so the receiver's rollover counter starts at 0
/// without out-of-band signalling, as str0m requires.
fn initial_seq() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish() & 0x7fff
}

#[cfg(test)]
#[path = "peer_tests.rs"]
mod tests;
