use super::*;

use std::collections::BTreeSet;

use str0m::change::SdpOffer;
use str0m::media::KeyframeRequest;

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

const STEP: Duration = Duration::from_millis(5);

/// Our peer and a str0m RTP-mode answerer in the SFU's place, on virtual
/// time, with a filter on what our peer sends.
struct Pair {
    now: Instant,
    peer: Peer,
    sfu: Rtc,
    a: SocketAddr,
    b: SocketAddr,
    peer_events: Vec<PeerEvent>,
    sfu_rtp: Vec<RtpPacket>,
    sfu_keyframe_requests: Vec<KeyframeRequest>,
}

impl Pair {
    fn connect() -> Self {
        let now = Instant::now();
        let (a, b): (SocketAddr, SocketAddr) = (
            "127.0.0.1:40001".parse().unwrap(),
            "127.0.0.1:40002".parse().unwrap(),
        );
        let (mut peer, pending, offer) = Peer::offer(a, 1, now).unwrap();
        let mut sfu = Rtc::builder()
            .set_rtp_mode(true)
            .set_ice_lite(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(now);
        sfu.add_local_candidate(Candidate::host(b, "udp").unwrap());
        let offer = SdpOffer::from_sdp_string(&offer).unwrap();
        let answer = sfu.sdp_api().accept_offer(offer).unwrap();
        peer.accept(pending, &answer.to_sdp_string()).unwrap();
        let mut pair = Self {
            now,
            peer,
            sfu,
            a,
            b,
            peer_events: Vec::new(),
            sfu_rtp: Vec::new(),
            sfu_keyframe_requests: Vec::new(),
        };
        pair.run(Duration::from_secs(3), &mut |_| false);
        assert!(
            pair.peer_events
                .iter()
                .any(|e| matches!(e, PeerEvent::Connected)),
            "connected"
        );
        pair.peer_events.clear();
        pair
    }

    /// Runs for `time`, dropping what our peer sends where `lose` says so.
    fn run(&mut self, time: Duration, lose: &mut dyn FnMut(&[u8]) -> bool) {
        let end = self.now + time;
        while self.now < end {
            self.now += STEP;
            self.peer.timeout(self.now);
            let (mut transmits, mut events) = (Vec::new(), Vec::new());
            self.peer.poll(self.now, &mut transmits, &mut events);
            self.peer_events.append(&mut events);
            for (_, bytes) in transmits {
                if !lose(&bytes) {
                    self.deliver_to_sfu(&bytes);
                }
            }
            self.sfu.handle_input(Input::Timeout(self.now)).unwrap();
            self.drain_sfu();
        }
    }

    fn deliver_to_sfu(&mut self, bytes: &[u8]) {
        let receive = Receive {
            proto: Protocol::Udp,
            source: self.a,
            destination: self.b,
            contents: bytes.try_into().unwrap(),
        };
        self.sfu
            .handle_input(Input::Receive(self.now, receive))
            .unwrap();
        self.drain_sfu();
    }

    fn drain_sfu(&mut self) {
        loop {
            match self.sfu.poll_output().unwrap() {
                Output::Timeout(_) => return,
                Output::Transmit(t) => self.peer.receive(self.now, self.b, self.a, &t.contents),
                Output::Event(Event::RtpPacket(p)) => self.sfu_rtp.push(p),
                Output::Event(Event::KeyframeRequest(r)) => self.sfu_keyframe_requests.push(r),
                Output::Event(_) => {}
            }
        }
    }

    fn video_slot(&self) -> Mid {
        *self
            .peer
            .slots
            .iter()
            .find(|(_, k)| **k == MediaKind::Video)
            .unwrap()
            .0
    }

    /// The answerer sends one VP8 frame in our video slot; `skip` leaves
    /// out packets (lost before it, so it has nothing to resend).
    fn sfu_sends(&mut self, seq: &mut u64, ts: u32, keyframe: bool, skip: &[usize]) {
        let mid = self.video_slot();
        let pt = self
            .sfu
            .codec_config()
            .find(|p| p.spec().codec == Codec::Vp8)
            .unwrap()
            .pt();
        for i in 0..3 {
            let first = i == 0;
            let mut payload = vec![if first { 0x10 } else { 0x00 }];
            payload.push(if keyframe { 0x10 } else { 0x11 });
            payload.extend(std::iter::repeat_n(i as u8, 500));
            *seq += 1;
            if skip.contains(&i) {
                continue;
            }
            let write = RtpWrite::new(pt, (*seq).into(), ts, self.now, payload)
                .marker(i == 2)
                .nackable(true);
            let mut api = self.sfu.direct_api();
            api.stream_tx_by_mid(mid, None).unwrap().write_rtp(write);
        }
    }

    fn frames(&self) -> Vec<(u32, bool)> {
        self.peer_events
            .iter()
            .filter_map(|e| match e {
                PeerEvent::Media {
                    rtp_time,
                    contiguous,
                    mid,
                    ..
                } if *mid == self.video_slot().to_string() => Some((*rtp_time, *contiguous)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn video_we_send_is_resent_when_the_receiver_reports_it_lost() {
    let mut pair = Pair::connect();
    let mut big = 0;
    // Drop the second large datagram: the middle packet of the first frame.
    let mut lose = |bytes: &[u8]| {
        if bytes.len() > 1000 {
            big += 1;
            return big == 2;
        }
        false
    };
    let frame: Vec<u8> = (0..3300u32).map(|i| i as u8).collect();
    for n in 0..5u64 {
        pair.peer.write_video(
            pair.now,
            Layer::Quarter,
            Duration::from_millis(n * 66),
            &frame,
        );
        pair.run(Duration::from_millis(66), &mut lose);
    }
    pair.run(Duration::from_millis(500), &mut lose);
    let video = pair.peer.video;
    let seqs: BTreeSet<u64> = pair
        .sfu_rtp
        .iter()
        .filter(|p| {
            pair.sfu
                .direct_api()
                .stream_rx(&p.header.ssrc)
                .map(|s| s.mid())
                == Some(video)
        })
        .map(|p| *p.seq_no)
        .collect();
    assert!(
        big >= 15,
        "every frame went out in three packets ({big} large datagrams)"
    );
    let (first, last) = (*seqs.first().unwrap(), *seqs.last().unwrap());
    assert_eq!(
        seqs.len() as u64,
        last - first + 1,
        "the lost packet came by RTX: {seqs:?}"
    );
    assert_eq!(
        seqs.len(),
        15,
        "three packets a frame, marker on each frame's last"
    );
}

#[test]
fn a_keyframe_behind_an_unrepairable_gap_is_shown_at_once_and_a_lasting_gap_asks_for_one() {
    let mut pair = Pair::connect();
    let mut seq = 100;
    let mut no_loss = |_: &[u8]| false;
    pair.sfu_sends(&mut seq, 3_000, true, &[]);
    pair.run(Duration::from_millis(50), &mut no_loss);
    assert_eq!(pair.frames(), vec![(3_000, true)]);
    // A delta whose middle packet the SFU never had, then a keyframe.
    pair.sfu_sends(&mut seq, 6_000, false, &[1]);
    pair.run(Duration::from_millis(20), &mut no_loss);
    pair.sfu_sends(&mut seq, 9_000, true, &[]);
    pair.run(Duration::from_millis(20), &mut no_loss);
    assert_eq!(
        pair.frames(),
        vec![(3_000, true), (9_000, false)],
        "the keyframe did not wait for the hole"
    );
    // A delta with a hole and nothing after it for a while: after the wait
    // a keyframe is asked for.
    pair.sfu_sends(&mut seq, 12_000, false, &[1]);
    pair.sfu_sends(&mut seq, 15_000, false, &[]);
    pair.run(
        crate::assemble::GAP_WAIT - Duration::from_millis(30),
        &mut no_loss,
    );
    assert!(
        pair.sfu_keyframe_requests.is_empty(),
        "still waiting for a repair"
    );
    pair.run(Duration::from_millis(100), &mut no_loss);
    assert_eq!(pair.sfu_keyframe_requests.len(), 1);
    assert!(
        pair.peer_events
            .iter()
            .any(|e| matches!(e, PeerEvent::KeyframeAsked { .. }))
    );
    assert_eq!(
        pair.frames().len(),
        2,
        "the deltas after the hole were dropped"
    );
}
