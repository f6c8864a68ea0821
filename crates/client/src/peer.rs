//! The client's WebRTC peer: str0m in frame mode (str0m packetizes Opus
//! and VP8 itself and hands back whole depacketized frames), sans-IO like
//! str0m: datagrams and time in, datagrams, events and a timeout out.
//!
//! The offer follows docs/protocol.md: one sendonly audio m-line, one
//! sendonly VP8 m-line with simulcast rids `l;m;h` (lowest first), then
//! N recvonly audio and N recvonly video slots.
//!
//! # Driving contract
//!
//! After any call that changes the peer (`accept`, `receive`, `timeout`,
//! a write, a keyframe request) the driver calls [`Peer::poll`] until it
//! returns the next timeout, sends the transmits, and acts on the events.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use confab_media::video::Layer;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, KeyframeRequestKind, MediaKind, MediaTime, Mid, Pt, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

use crate::error::ClientError;
use crate::session::rid_for_layer;

/// How often str0m reports statistics (packet loss for the summary).
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// What the peer produced besides datagrams.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    Connected,
    /// ICE gave up or DTLS closed: the media path is gone.
    Disconnected,
    /// The SFU asks for a keyframe on our layer.
    KeyframeRequest(Layer),
    /// A depacketized Opus packet or VP8 frame in receive slot `mid`.
    Media {
        mid: String,
        data: std::sync::Arc<[u8]>,
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

/// One str0m peer with our offer's layout.
#[derive(Debug)]
pub(crate) struct Peer {
    rtc: Rtc,
    audio: Mid,
    video: Mid,
    connected: bool,
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
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            // Audio goes straight to our jitter buffer, which reorders and
            // conceals on its own clock. str0m's default holds up to 15
            // packets (300 ms) behind each lost one, so every loss turned
            // into 300 ms of concealment and then a burst too late to play.
            .set_reordering_size_audio(0)
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
        for _ in 0..slots {
            api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
            api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        }
        let (offer, pending) = api
            .apply()
            .ok_or_else(|| ClientError::Media("str0m made no offer".into()))?;
        let peer = Self {
            rtc,
            audio,
            video,
            connected: false,
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
    }

    pub(crate) fn timeout(&mut self, now: Instant) {
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            tracing::debug!(error = %e, "peer timeout failed");
        }
    }

    /// Datagrams to send go to `transmits`, events to `events`; returns
    /// when the peer wants the time again.
    pub(crate) fn poll(
        &mut self,
        transmits: &mut Vec<(SocketAddr, Vec<u8>)>,
        events: &mut Vec<PeerEvent>,
    ) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return at,
                Ok(Output::Transmit(t)) => transmits.push((t.destination, t.contents.into())),
                Ok(Output::Event(e)) => self.on_event(e, events),
                Err(e) => {
                    tracing::warn!(error = %e, "media connection failed");
                    events.push(PeerEvent::Disconnected);
                    return Instant::now() + Duration::from_millis(100);
                }
            }
        }
    }

    fn on_event(&mut self, event: Event, events: &mut Vec<PeerEvent>) {
        match event {
            Event::Connected => {
                self.connected = true;
                events.push(PeerEvent::Connected);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.connected = false;
                events.push(PeerEvent::Disconnected);
            }
            Event::KeyframeRequest(request) if request.mid == self.video => {
                let layer = request
                    .rid
                    .and_then(|rid| crate::session::layer_for_rid(&rid))
                    .unwrap_or(Layer::Quarter);
                events.push(PeerEvent::KeyframeRequest(layer));
            }
            Event::MediaData(data) => events.push(PeerEvent::Media {
                mid: data.mid.to_string(),
                seq: (**data.seq_range.start() & 0xffff) as u16,
                rtp_time: (data.time.numer() & 0xffff_ffff) as u32,
                contiguous: data.contiguous,
                arrival: data.network_time,
                data: data.data,
            }),
            Event::MediaIngressStats(stats) => {
                if let Some(fraction) = stats.loss {
                    events.push(PeerEvent::Loss {
                        mid: stats.mid.to_string(),
                        fraction,
                    });
                }
            }
            _ => {}
        }
    }

    fn pt(&mut self, mid: Mid, codec: Codec) -> Option<Pt> {
        let writer = self.rtc.writer(mid)?;
        writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
    }

    /// Sends one 20 ms Opus packet with its RFC 6464 level (-dBov).
    pub(crate) fn write_audio(&mut self, now: Instant, samples: u64, payload: &[u8], level: u8) {
        if !self.connected {
            return;
        }
        let Some(pt) = self.pt(self.audio, Codec::Opus) else {
            return;
        };
        let Some(writer) = self.rtc.writer(self.audio) else {
            return;
        };
        let level = -(level.min(127) as i8);
        let time = MediaTime::new(samples, str0m::media::Frequency::FORTY_EIGHT_KHZ);
        if let Err(e) =
            writer
                .audio_level(level, level > -50)
                .write(pt, now, time, payload.to_vec())
        {
            tracing::debug!(error = %e, "audio write failed");
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
        if !self.connected {
            return;
        }
        let Some(pt) = self.pt(self.video, Codec::Vp8) else {
            return;
        };
        let Some(writer) = self.rtc.writer(self.video) else {
            return;
        };
        let ticks = capture.as_micros() as u64 * 9 / 100;
        let time = MediaTime::new(ticks, str0m::media::Frequency::NINETY_KHZ);
        let rid = Rid::from(rid_for_layer(layer));
        if let Err(e) = writer.rid(rid).write(pt, now, time, payload.to_vec()) {
            tracing::debug!(error = %e, "video write failed");
        }
    }

    /// Asks the SFU for a keyframe in receive slot `mid`.
    pub(crate) fn request_keyframe(&mut self, mid: &str) {
        let mid = Mid::from(mid);
        if let Some(mut writer) = self.rtc.writer(mid)
            && let Err(e) = writer.request_keyframe(None, KeyframeRequestKind::Pli)
        {
            tracing::debug!(error = %e, %mid, "keyframe request failed");
        }
    }

    /// Closes the connection (on leave or before a replacing offer).
    pub(crate) fn close(&mut self) {
        self.rtc.disconnect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_has_one_simulcast_video_lowest_layer_first_and_n_receive_slots_of_each_kind() {
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let (_peer, _pending, sdp) = Peer::offer(local, 3, Instant::now()).unwrap();
        assert_eq!(sdp.matches("m=audio").count(), 4, "{sdp}");
        assert_eq!(sdp.matches("m=video").count(), 4, "{sdp}");
        assert_eq!(sdp.matches("a=sendonly").count(), 2, "{sdp}");
        assert_eq!(sdp.matches("a=recvonly").count(), 6, "{sdp}");
        assert!(sdp.contains("a=simulcast:send l;m;h"), "{sdp}");
        for rid in ["l", "m", "h"] {
            assert!(sdp.contains(&format!("a=rid:{rid} send")), "{sdp}");
        }
        assert!(
            sdp.contains("ssrc-audio-level"),
            "audio level extension: {sdp}"
        );
        assert!(
            sdp.contains("VP8/90000") && sdp.contains("opus/48000"),
            "{sdp}"
        );
        assert!(sdp.contains("127.0.0.1 40000 typ host"), "{sdp}");
    }
}
