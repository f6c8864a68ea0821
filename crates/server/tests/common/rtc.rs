//! A media client for real-socket tests: a str0m peer (ICE controlling,
//! DTLS) on its own UDP socket that offers like Confab's clients (one
//! sendonly audio, one sendonly simulcast VP8 video, N recvonly slots of
//! each), sends synthetic Opus-like audio with the audio-level extension
//! and VP8 frames with real payload descriptors, and records what it
//! receives. Adapted from crates/sfu/tests/common/client.rs.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// Simulcast layers, lowest first, with their frame size and packets per frame.
pub const LAYERS: [(&str, (u16, u16), usize); 3] = [
    ("l", (320, 180), 1),
    ("m", (640, 360), 2),
    ("h", (1280, 720), 3),
];
const PAYLOAD_BYTES: usize = 400;
const AUDIO_EVERY: Duration = Duration::from_millis(20);
const VIDEO_EVERY: Duration = Duration::from_millis(33);

/// One received packet, as a decoder would see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub seq: u64,
    /// VP8: from the payload the publisher wrote: (layer, frame, packet).
    pub tag: Option<(u8, u32, u8)>,
    pub keyframe: bool,
    pub audio_level: Option<i8>,
}

#[derive(Debug)]
pub struct State {
    rtc: Rtc,
    audio: Option<Mid>,
    video: Option<Mid>,
    pub received: HashMap<Mid, Vec<Received>>,
    pub connected: bool,
    pub audio_level: i8,
    pending_keyframes: HashSet<usize>,
    seq: [u64; 4],
    frame: u32,
    audio_ts: u32,
}

/// A running media client; its task stops when this is dropped.
#[derive(Debug)]
pub struct MediaClient {
    state: Arc<Mutex<State>>,
    socket: Option<UdpSocket>,
    pending: Option<SdpPendingOffer>,
    task: Option<JoinHandle<()>>,
}

impl Drop for MediaClient {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl MediaClient {
    /// Binds a socket on loopback and makes the offer: publishing audio
    /// and video, and `slots` receive slots of each kind.
    pub async fn offer(slots: usize) -> (Self, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("client socket");
        let addr = socket.local_addr().expect("client address");
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("candidate"));
        let mut api = rtc.sdp_api();
        let audio = api.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let mut simulcast = Simulcast::new();
        for (rid, _, _) in LAYERS {
            simulcast.add_send_layer(SimulcastLayer::new(rid));
        }
        let video = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            None,
            None,
            Some(simulcast),
        );
        for _ in 0..slots {
            api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
            api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        }
        let (offer, pending) = api.apply().expect("an offer");
        let state = State {
            rtc,
            audio: Some(audio),
            video: Some(video),
            received: HashMap::new(),
            connected: false,
            audio_level: -30,
            pending_keyframes: (0..LAYERS.len()).collect(),
            seq: [1; 4],
            frame: 0,
            audio_ts: 0,
        };
        let client = Self {
            state: Arc::new(Mutex::new(state)),
            socket: Some(socket),
            pending: Some(pending),
            task: None,
        };
        (client, offer.to_sdp_string())
    }

    /// Applies the server's answer and starts driving the peer over the
    /// socket: ICE, DTLS, then audio every 20 ms and video every 33 ms.
    pub fn accept(&mut self, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).expect("answer parses");
        let pending = self.pending.take().expect("an offer is pending");
        self.state()
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("answer accepted");
        let socket = self.socket.take().expect("not started yet");
        self.task = Some(tokio::spawn(drive(Arc::clone(&self.state), socket)));
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What arrived in the slot `mid` so far.
    pub fn received(&self, mid: &str) -> Vec<Received> {
        self.state()
            .received
            .get(&Mid::from(mid))
            .cloned()
            .unwrap_or_default()
    }
}

async fn drive(state: Arc<Mutex<State>>, socket: UdpSocket) {
    let local = socket.local_addr().expect("client address");
    let mut buf = vec![0u8; 2048];
    let mut next_audio = Instant::now();
    let mut next_video = Instant::now();
    loop {
        let now = Instant::now();
        let (transmits, timeout) = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            if now >= next_audio {
                next_audio = now + AUDIO_EVERY;
                s.send_audio(now);
            }
            if now >= next_video {
                next_video = now + VIDEO_EVERY;
                s.send_video(now);
            }
            s.rtc
                .handle_input(Input::Timeout(now))
                .expect("client timeout");
            s.drain()
        };
        for (destination, bytes) in transmits {
            let _ = socket.send_to(&bytes, destination).await;
        }
        let wake = timeout.min(next_audio).min(next_video);
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((len, source)) = received else { continue };
                let Ok(contents) = buf[..len].try_into() else { continue };
                let input = Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: local, contents },
                );
                let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                if s.rtc.accepts(&input) {
                    s.rtc.handle_input(input).expect("client input");
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {}
        }
    }
}

impl State {
    /// Polls the peer until its timeout: datagrams to send and the timeout.
    fn drain(&mut self) -> (Vec<(SocketAddr, Vec<u8>)>, Instant) {
        let mut transmits = Vec::new();
        loop {
            match self.rtc.poll_output().expect("client output") {
                Output::Timeout(at) => return (transmits, at),
                Output::Transmit(t) => transmits.push((t.destination, t.contents.into())),
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    fn pt(&self, codec: Codec) -> Pt {
        self.rtc
            .codec_config()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
            .expect("codec negotiated")
    }

    /// One 20 ms Opus-like packet at the current audio level.
    fn send_audio(&mut self, now: Instant) {
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

    /// One frame on every layer, a keyframe where one was asked for.
    fn send_video(&mut self, now: Instant) {
        let (Some(mid), true) = (self.video, self.connected) else {
            return;
        };
        let pt = self.pt(Codec::Vp8);
        let frame = self.frame;
        self.frame += 1;
        for (index, (rid, size, packets)) in LAYERS.iter().enumerate() {
            let keyframe = self.pending_keyframes.remove(&index);
            let ts = frame * 3_000;
            let picture_id = ((frame + 100 * index as u32) & 0x7fff) as u16;
            for packet in 0..*packets {
                let payload = vp8_payload(index, frame, packet, keyframe, *size, picture_id);
                let seq = self.seq[index];
                self.seq[index] += 1;
                let write = RtpWrite::new(pt, seq.into(), ts, now, payload)
                    .marker(packet + 1 == *packets)
                    .nackable(true);
                let mut api = self.rtc.direct_api();
                if let Some(stream) = api.stream_tx_by_mid(mid, Some(Rid::from(*rid))) {
                    stream.write_rtp(write);
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected = true,
            Event::KeyframeRequest(request) => {
                let rid = request.rid.unwrap_or_else(|| Rid::from("l"));
                if let Some(i) = LAYERS.iter().position(|(r, _, _)| Rid::from(*r) == rid) {
                    self.pending_keyframes.insert(i);
                }
            }
            Event::RtpPacket(packet) => {
                let ssrc = packet.header.ssrc;
                let Some(mid) = self.rtc.direct_api().stream_rx(&ssrc).map(|s| s.mid()) else {
                    return;
                };
                let mut received = parse(&packet.payload, *packet.seq_no);
                received.audio_level = packet.header.ext_vals.audio_level;
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
    p.resize(PAYLOAD_BYTES, 0x55);
    p
}

/// Reads back what [`vp8_payload`] wrote; audio payloads carry no tag.
fn parse(payload: &[u8], seq: u64) -> Received {
    let mut received = Received {
        seq,
        tag: None,
        keyframe: false,
        audio_level: None,
    };
    if payload.len() < 5 || payload[0] & 0x80 == 0 {
        return received;
    }
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
