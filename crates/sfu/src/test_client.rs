//! A test participant (feature `test-client`): a full str0m peer (ICE
//! controlling, DTLS-SRTP) that offers like Confab's clients (one sendonly
//! audio, one sendonly simulcast VP8 video, N recvonly slots of each),
//! publishes synthetic Opus-like audio with the audio-level extension and
//! three VP8 simulcast layers with real payload descriptors, and records
//! what it receives.
//!
//! It is sans-IO like the SFU: the SFU's virtual-time tests, the server's
//! real-socket tests and the load bench each drive it their own way
//! ([`Client::handle_datagram`], [`Client::drain`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcError};

/// Simulcast layers, lowest first, with their frame size and packets per frame.
pub const LAYERS: [(&str, (u16, u16), usize); 3] = [
    ("l", (320, 180), 1),
    ("m", (640, 360), 2),
    ("h", (1280, 720), 3),
];
/// Default size of a video packet's payload.
pub const PAYLOAD_BYTES: usize = 400;

/// One received packet, as a subscriber's decoder would see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub seq: u64,
    pub ts: u32,
    pub picture_id: Option<u16>,
    /// From the payload the publisher wrote: (layer index, frame, packet).
    pub tag: Option<(u8, u32, u8)>,
    pub keyframe: bool,
    pub audio_level: Option<i8>,
}

#[derive(Debug)]
pub struct Client {
    pub id: u64,
    pub rtc: Rtc,
    pub addr: SocketAddr,
    /// When its `Rtc` next wants a timeout input.
    pub timeout: Instant,
    pub audio: Option<Mid>,
    pub video: Option<Mid>,
    pub received: HashMap<Mid, Vec<Received>>,
    /// Whether to keep what arrives in `received` (a load run does not).
    pub record: bool,
    /// RTP packets received, recorded or not.
    pub packets_received: u64,
    /// PLIs the SFU sent this publisher, per rid.
    pub keyframe_requests: HashMap<Rid, usize>,
    /// Layers whose next frame is a keyframe.
    pending_keyframes: HashSet<usize>,
    pub connected: bool,
    pub audio_level: i8,
    /// Layers this publisher sends; all by default.
    pub sending: Vec<bool>,
    /// Packets per frame of each layer, and each video packet's payload size.
    pub packets_per_frame: [usize; 3],
    pub payload_bytes: usize,
    seq: [u64; 4],
    frame: u32,
    audio_ts: u32,
}

impl Client {
    /// Builds a client and its offer: publishing (if `publish`) and
    /// `slots` receive slots of each kind.
    pub fn offer(
        now: Instant,
        id: u64,
        addr: SocketAddr,
        publish: bool,
        slots: usize,
    ) -> (Self, String, SdpPendingOffer) {
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"));
        let mut api = rtc.sdp_api();
        let (mut audio, mut video) = (None, None);
        if publish {
            audio = Some(api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
            let mut simulcast = Simulcast::new();
            for (rid, _, _) in LAYERS {
                simulcast.add_send_layer(SimulcastLayer::new(rid));
            }
            let dir = Direction::SendOnly;
            video = Some(api.add_media(MediaKind::Video, dir, None, None, Some(simulcast)));
        }
        for _ in 0..slots {
            api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
            api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        }
        let (offer, pending) = api.apply().expect("an offer");
        let client = Self {
            id,
            rtc,
            addr,
            timeout: now,
            audio,
            video,
            received: HashMap::new(),
            record: true,
            packets_received: 0,
            keyframe_requests: HashMap::new(),
            pending_keyframes: (0..LAYERS.len()).collect(),
            connected: false,
            audio_level: -127,
            sending: vec![true; LAYERS.len()],
            packets_per_frame: LAYERS.map(|(_, _, packets)| packets),
            payload_bytes: PAYLOAD_BYTES,
            seq: [1; 4],
            frame: 0,
            audio_ts: 0,
        };
        (client, offer.to_sdp_string(), pending)
    }

    /// Applies the SFU's answer.
    pub fn accept(&mut self, pending: SdpPendingOffer, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("answer parses");
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("answer accepted");
    }

    /// Feeds one datagram from the SFU. Call [`Self::drain`] afterwards:
    /// str0m holds only one received RTP packet until it is polled.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), RtcError> {
        let Ok(contents) = bytes.try_into() else {
            return Ok(());
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.addr,
                contents,
            },
        );
        if self.rtc.accepts(&input) {
            self.rtc.handle_input(input)?;
        }
        Ok(())
    }

    /// Advances the peer to `now` and polls it until it names its next
    /// timeout, handing each datagram to `send(source, destination, bytes)`.
    pub fn drain(
        &mut self,
        now: Instant,
        mut send: impl FnMut(SocketAddr, SocketAddr, Vec<u8>),
    ) -> Result<Instant, RtcError> {
        if self.timeout <= now {
            self.rtc.handle_input(Input::Timeout(now))?;
        }
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(at) => {
                    self.timeout = at;
                    return Ok(at);
                }
                Output::Transmit(t) => send(t.source, t.destination, t.contents.into()),
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    /// What arrived in the slot `mid` so far.
    pub fn received_in(&self, mid: &str) -> &[Received] {
        self.received
            .get(&Mid::from(mid))
            .map_or(&[], Vec::as_slice)
    }

    fn pt(&self, codec: Codec) -> Pt {
        self.rtc
            .codec_config()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
            .expect("codec negotiated")
    }

    /// One 20 ms Opus-like packet at the current audio level.
    pub fn send_audio(&mut self, now: Instant) {
        let (Some(mid), true) = (self.audio, self.connected) else {
            return;
        };
        let pt = self.pt(Codec::Opus);
        let ext = ExtensionValues {
            audio_level: Some(self.audio_level),
            voice_activity: Some(self.audio_level > -50),
            ..Default::default()
        };
        let seq = self.seq[3];
        self.seq[3] += 1;
        let mut payload = vec![0xfc; 60];
        payload[..8].copy_from_slice(&seq.to_be_bytes());
        let write = RtpWrite::new(pt, seq.into(), self.audio_ts, now, payload).ext_vals(ext);
        self.audio_ts = self.audio_ts.wrapping_add(960);
        if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
            stream.write_rtp(write);
        }
    }

    /// One frame on every layer being sent, a keyframe where one was asked for.
    pub fn send_video(&mut self, now: Instant) {
        let (Some(mid), true) = (self.video, self.connected) else {
            return;
        };
        let pt = self.pt(Codec::Vp8);
        let frame = self.frame;
        self.frame += 1;
        for (index, (rid, size, _)) in LAYERS.iter().enumerate() {
            if !self.sending[index] {
                continue;
            }
            let packets = self.packets_per_frame[index];
            let keyframe = self.pending_keyframes.remove(&index);
            let ts = frame * 3_000;
            let picture_id = ((frame + 100 * index as u32) & 0x7fff) as u16;
            for packet in 0..packets {
                let mut payload = vp8_payload(index, frame, packet, keyframe, *size, picture_id);
                payload.resize(self.payload_bytes, 0x55);
                let seq = self.seq[index];
                self.seq[index] += 1;
                let write = RtpWrite::new(pt, seq.into(), ts, now, payload)
                    .marker(packet + 1 == packets)
                    .nackable(true);
                let mut api = self.rtc.direct_api();
                if let Some(stream) = api.stream_tx_by_mid(mid, Some(Rid::from(*rid))) {
                    stream.write_rtp(write);
                }
            }
        }
    }

    pub fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected = true,
            Event::KeyframeRequest(request) => {
                let rid = request.rid.unwrap_or_else(|| Rid::from("l"));
                *self.keyframe_requests.entry(rid).or_default() += 1;
                if let Some(i) = LAYERS.iter().position(|(r, _, _)| Rid::from(*r) == rid) {
                    self.pending_keyframes.insert(i);
                }
            }
            Event::RtpPacket(packet) => {
                self.packets_received += 1;
                if !self.record {
                    return;
                }
                let ssrc = packet.header.ssrc;
                let Some(mid) = self.rtc.direct_api().stream_rx(&ssrc).map(|s| s.mid()) else {
                    return;
                };
                let received = parse(&packet.payload, *packet.seq_no, packet.header.timestamp);
                let received = Received {
                    audio_level: packet.header.ext_vals.audio_level,
                    ..received
                };
                self.received.entry(mid).or_default().push(received);
            }
            _ => {}
        }
    }
}

/// A VP8 RTP payload: descriptor (X, S on the first packet, 15-bit
/// picture ID), a VP8 frame header on the first packet, then a tag.
fn vp8_payload(
    layer: usize,
    frame: u32,
    packet: usize,
    keyframe: bool,
    size: (u16, u16),
    picture_id: u16,
) -> Vec<u8> {
    let first = packet == 0;
    let mut p = vec![0x80 | if first { 0x10 } else { 0 }, 0x80];
    p.extend_from_slice(&(0x8000 | picture_id).to_be_bytes());
    if first && keyframe {
        p.extend_from_slice(&[0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
        p.extend_from_slice(&size.0.to_le_bytes());
        p.extend_from_slice(&size.1.to_le_bytes());
    } else if first {
        p.extend_from_slice(&[0x01, 0x00, 0x00]);
    }
    p.push(0xee);
    p.push(layer as u8);
    p.extend_from_slice(&frame.to_be_bytes());
    p.push(packet as u8);
    p
}

/// Reads back what [`vp8_payload`] wrote; audio payloads carry no tag.
fn parse(payload: &[u8], seq: u64, ts: u32) -> Received {
    let mut received = Received {
        seq,
        ts,
        picture_id: None,
        tag: None,
        keyframe: false,
        audio_level: None,
    };
    if payload.len() < 5 || payload[0] & 0x80 == 0 {
        return received;
    }
    received.picture_id = Some(u16::from_be_bytes([payload[2], payload[3]]) & 0x7fff);
    let first = payload[0] & 0x10 != 0;
    let mut at = 4;
    if first {
        received.keyframe = payload[4] & 1 == 0;
        at += if received.keyframe { 10 } else { 3 };
    }
    if let Some(tag) = payload.get(at..at + 7).filter(|t| t[0] == 0xee) {
        let frame = u32::from_be_bytes([tag[2], tag[3], tag[4], tag[5]]);
        received.tag = Some((tag[1], frame, tag[6]));
    }
    received
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vp8_payload_reads_back_as_written() {
        let key = vp8_payload(2, 77, 0, true, (1280, 720), 300);
        let r = parse(&key, 5, 9);
        assert!(r.keyframe);
        assert_eq!((r.tag, r.picture_id), (Some((2, 77, 0)), Some(300)));
        let delta = vp8_payload(1, 78, 1, false, (640, 360), 301);
        let r = parse(&delta, 6, 9);
        assert!(!r.keyframe);
        assert_eq!(r.tag, Some((1, 78, 1)));
        // Audio (no VP8 descriptor bit) carries no tag.
        assert_eq!(parse(&[0x7c; 60], 1, 0).tag, None);
    }
}
