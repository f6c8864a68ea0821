use super::*;

use str0m::unversioned::{Packetizer, Vp8Packetizer};

/// One RTP packet as the assembler takes it.
#[derive(Debug, Clone)]
struct Rtp {
    seq: u64,
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
}

/// A VP8 sender: frames of made-up VP8 bytes (the first byte's P bit
/// says key or delta), packetized the way str0m does it.
struct Sender {
    seq: u64,
    ts: u32,
    count: u8,
    vp8: Vp8Packetizer,
}

impl Sender {
    fn new(seq: u64) -> Self {
        Self {
            seq,
            ts: 90_000,
            count: 0,
            vp8: Vp8Packetizer::default(),
        }
    }

    /// The VP8 bytes of the next frame, `packets` packets long.
    fn frame_bytes(&mut self, keyframe: bool, packets: usize) -> Vec<u8> {
        self.count = self.count.wrapping_add(1);
        let mut data = vec![self.count; packets * 100];
        data[0] = if keyframe { 0x10 } else { 0x11 };
        data
    }

    fn frame(&mut self, keyframe: bool, packets: usize) -> (Vec<u8>, Vec<Rtp>) {
        let data = self.frame_bytes(keyframe, packets);
        let chunks = self.vp8.packetize(101, &data).expect("packetizes");
        assert_eq!(chunks.len(), packets);
        let last = chunks.len() - 1;
        let rtp = chunks
            .into_iter()
            .enumerate()
            .map(|(i, payload)| {
                self.seq += 1;
                Rtp {
                    seq: self.seq,
                    ts: self.ts,
                    marker: i == last,
                    payload,
                }
            })
            .collect();
        self.ts = self.ts.wrapping_add(6_000);
        (data, rtp)
    }
}

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

fn feed(a: &mut Vp8Assembler, packets: &[Rtp], now: Instant) -> Vec<Assembled> {
    let mut out = Vec::new();
    for p in packets {
        a.push(p.seq, p.ts, p.marker, &p.payload, now);
        a.poll(now, &mut out);
    }
    out
}

fn frames(out: &[Assembled]) -> Vec<&Frame> {
    out.iter()
        .filter_map(|o| match o {
            Assembled::Frame(f) => Some(f),
            Assembled::RequestKeyframe => None,
        })
        .collect()
}

fn requests(out: &[Assembled]) -> usize {
    out.iter()
        .filter(|o| **o == Assembled::RequestKeyframe)
        .count()
}

/// An assembler that has emitted one keyframe, and its sender.
fn started(t0: Instant) -> (Vp8Assembler, Sender) {
    let mut a = Vp8Assembler::new();
    let mut s = Sender::new(1_000);
    let (_, key) = s.frame(true, 3);
    assert_eq!(frames(&feed(&mut a, &key, t0)).len(), 1);
    (a, s)
}

#[test]
fn frames_in_order_leave_whole_and_contiguous_with_descriptors_removed() {
    let t0 = Instant::now();
    let mut a = Vp8Assembler::new();
    let mut s = Sender::new(1_000);
    let mut sent = Vec::new();
    let mut out = Vec::new();
    for i in 0..6 {
        let (data, rtp) = s.frame(i == 0, if i == 0 { 4 } else { 2 });
        sent.push((data, rtp[0].seq, rtp[0].ts));
        out.extend(feed(&mut a, &rtp, ms(t0, i * 66)));
    }
    let got = frames(&out);
    assert_eq!(got.len(), 6);
    for (f, (data, seq, ts)) in got.iter().zip(&sent) {
        assert_eq!(&*f.data, data.as_slice());
        assert_eq!((f.seq, f.rtp_time), (*seq, *ts));
        assert!(f.contiguous);
    }
    assert!(got[0].keyframe && !got[1].keyframe);
    assert_eq!(requests(&out), 0);
    assert_eq!(a.poll_timeout(), None, "nothing is held");
}

#[test]
fn a_lost_packet_holds_later_frames_until_its_repair_arrives() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, d1) = s.frame(false, 3);
    let (_, d2) = s.frame(false, 2);
    let lost = d1[1].clone();
    let arrived = [&d1[..1], &d1[2..], &d2[..]].concat();
    assert!(
        feed(&mut a, &arrived, ms(t0, 10)).is_empty(),
        "held behind the hole"
    );
    assert_eq!(a.poll_timeout(), Some(ms(t0, 10) + GAP_WAIT));
    let out = feed(&mut a, &[lost], ms(t0, 120));
    let got = frames(&out);
    assert_eq!(got.len(), 2, "{out:?}");
    assert_eq!(got[0].seq, d1[0].seq);
    assert_eq!(got[1].seq, d2[0].seq);
    assert!(got.iter().all(|f| f.contiguous));
    assert_eq!(requests(&out), 0);
}

#[test]
fn a_complete_keyframe_behind_an_unrepaired_gap_leaves_at_once() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, d1) = s.frame(false, 3);
    let (_, d2) = s.frame(false, 2);
    let (key_bytes, key) = s.frame(true, 4);
    let arrived = [&d1[..1], &d2[..]].concat();
    assert!(feed(&mut a, &arrived, ms(t0, 10)).is_empty());
    let out = feed(&mut a, &key, ms(t0, 20));
    let got = frames(&out);
    assert_eq!(got.len(), 1, "only the keyframe: {out:?}");
    assert!(got[0].keyframe && !got[0].contiguous);
    assert_eq!(&*got[0].data, key_bytes.as_slice());
    assert_eq!(requests(&out), 0, "no request: the keyframe is here");
    // The late repair of the frame before it is of no use any more.
    assert!(feed(&mut a, &d1[1..], ms(t0, 30)).is_empty());
    let (_, d3) = s.frame(false, 2);
    let got = feed(&mut a, &d3, ms(t0, 40));
    assert!(matches!(&got[..], [Assembled::Frame(f)] if f.contiguous && f.seq == d3[0].seq));
}

#[test]
fn a_delta_behind_an_unfilled_gap_is_held_then_dropped_and_a_keyframe_asked_for() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, d1) = s.frame(false, 2);
    let (_, d2) = s.frame(false, 2);
    assert!(feed(&mut a, &[d1[0].clone()], ms(t0, 0)).is_empty());
    assert!(feed(&mut a, &d2, ms(t0, 0)).is_empty());
    let mut out = Vec::new();
    a.poll(ms(t0, 0) + GAP_WAIT - Duration::from_millis(1), &mut out);
    assert!(out.is_empty(), "still waiting for the repair");
    let deadline = a.poll_timeout().expect("a deadline for the gap");
    assert_eq!(deadline, ms(t0, 0) + GAP_WAIT);
    a.poll(deadline, &mut out);
    assert_eq!(out, vec![Assembled::RequestKeyframe]);
    // More deltas are dropped; the request is repeated at its own pace.
    let (_, d3) = s.frame(false, 2);
    let later = deadline + Duration::from_millis(100);
    assert!(feed(&mut a, &d3, later).is_empty());
    assert_eq!(a.poll_timeout(), Some(deadline + KEYFRAME_REQUEST_GAP));
    let mut out = Vec::new();
    a.poll(deadline + KEYFRAME_REQUEST_GAP, &mut out);
    assert_eq!(out, vec![Assembled::RequestKeyframe]);
    // The repair of the old hole comes too late to matter.
    assert!(feed(&mut a, &d1[1..], later).is_empty());
    let (_, key) = s.frame(true, 3);
    let out = feed(&mut a, &key, deadline + Duration::from_millis(400));
    let got = frames(&out);
    assert_eq!(got.len(), 1);
    assert!(got[0].keyframe && !got[0].contiguous);
    assert_eq!(a.poll_timeout(), None, "no more requests");
}

#[test]
fn a_frame_whose_tail_has_not_come_with_nothing_after_it_waits_without_asking() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, d1) = s.frame(false, 3);
    assert!(feed(&mut a, &d1[..1], t0).is_empty());
    assert_eq!(a.poll_timeout(), None);
    let mut out = Vec::new();
    a.poll(ms(t0, 900), &mut out);
    assert!(out.is_empty(), "no hole, no request: {out:?}");
    let got = feed(&mut a, &d1[1..], ms(t0, 950));
    assert!(matches!(&got[..], [Assembled::Frame(f)] if f.contiguous));
}

#[test]
fn reordered_packets_are_put_back_in_order() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let mut rtp = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..5 {
        let (_, f) = s.frame(false, 3);
        firsts.push(f[0].seq);
        rtp.extend(f);
    }
    // Swap neighbours and move one packet two frames later.
    for i in (0..rtp.len() - 1).step_by(2) {
        rtp.swap(i, i + 1);
    }
    let moved = rtp.remove(2);
    rtp.insert(8, moved);
    let out = feed(&mut a, &rtp, ms(t0, 10));
    let got: Vec<u64> = frames(&out).iter().map(|f| f.seq).collect();
    assert_eq!(got, firsts);
    assert!(frames(&out).iter().all(|f| f.contiguous));
}

#[test]
fn frames_run_on_across_the_16_bit_sequence_and_32_bit_timestamp_wraps() {
    let t0 = Instant::now();
    let mut a = Vp8Assembler::new();
    let mut s = Sender::new(65_530);
    s.ts = u32::MAX - 10_000;
    let mut out = Vec::new();
    for i in 0..6 {
        let (_, rtp) = s.frame(i == 0, 3);
        out.extend(feed(&mut a, &rtp, ms(t0, i * 66)));
    }
    let got = frames(&out);
    assert_eq!(got.len(), 6);
    assert!(got.iter().any(|f| f.seq > 65_536) && got.iter().any(|f| f.rtp_time < 100_000));
    assert!(
        got.windows(2)
            .all(|w| w[1].seq > w[0].seq && w[1].contiguous)
    );
}

#[test]
fn a_frame_cut_short_by_the_next_frame_start_is_dropped_without_waiting() {
    // What the SFU sends after an outage or a layer switch: part of a
    // frame, then straight on with a keyframe.
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, cut) = s.frame(false, 3);
    s.seq -= 1; // its last packet was never sent
    let (_, key) = s.frame(true, 2);
    let out = feed(&mut a, &[&cut[..2], &key[..]].concat(), ms(t0, 10));
    let got = frames(&out);
    assert_eq!(got.len(), 1);
    assert!(got[0].keyframe && !got[0].contiguous);
    assert_eq!(requests(&out), 0);
}

#[test]
fn descriptors_with_picture_ids_and_temporal_layers_are_understood() {
    // Chromium's: X, I (15-bit picture ID), L and T set; a partition
    // start with PID 1 inside the frame.
    let t0 = Instant::now();
    let mut a = Vp8Assembler::new();
    let key = |s: u8, pid: u8, body: &[u8]| {
        let mut p = vec![0x80 | s << 4 | pid, 0xe0, 0x80 | 0x12, 0x34, 0x05, 0x20];
        p.extend_from_slice(body);
        p
    };
    let packets = [
        (1, false, key(1, 0, &[0x10, 1, 2])),
        (2, false, key(1, 1, &[3, 4])),
        (3, true, key(0, 1, &[5])),
    ];
    let mut out = Vec::new();
    for (seq, marker, payload) in &packets {
        a.push(*seq, 3_000, *marker, payload, t0);
    }
    a.poll(t0, &mut out);
    let got = frames(&out);
    assert_eq!(got.len(), 1, "{out:?}");
    assert_eq!(&*got[0].data, &[0x10, 1, 2, 3, 4, 5]);
    assert!(got[0].keyframe);
}

#[test]
fn before_the_first_keyframe_deltas_are_dropped_and_one_is_asked_for_after_a_grace() {
    let t0 = Instant::now();
    let mut a = Vp8Assembler::new();
    let mut s = Sender::new(7);
    let (_, d1) = s.frame(false, 2);
    assert!(feed(&mut a, &d1, t0).is_empty(), "no request at once");
    assert_eq!(a.poll_timeout(), Some(t0 + GAP_WAIT));
    let mut out = Vec::new();
    a.poll(t0 + GAP_WAIT, &mut out);
    assert_eq!(out, vec![Assembled::RequestKeyframe]);
    let (_, key) = s.frame(true, 2);
    let out = feed(&mut a, &key, t0 + GAP_WAIT);
    assert!(matches!(&frames(&out)[..], [f] if f.keyframe));
}

#[test]
fn a_silent_slot_stops_asking_for_keyframes_until_packets_come_again() {
    let t0 = Instant::now();
    let (mut a, mut s) = started(t0);
    let (_, d1) = s.frame(false, 2);
    let (_, d2) = s.frame(false, 2);
    assert!(feed(&mut a, &[&d1[..1], &d2[..]].concat(), t0).is_empty());
    let mut asked = 0;
    let mut now = t0;
    for _ in 0..100 {
        let Some(at) = a.poll_timeout() else { break };
        assert!(at > now || now == t0, "the timeout moves on");
        now = at;
        let mut out = Vec::new();
        a.poll(now, &mut out);
        asked += requests(&out);
    }
    assert_eq!(a.poll_timeout(), None, "quiet once the slot is silent");
    assert!(
        (3..=5).contains(&asked),
        "asked {asked} times in the second it was active"
    );
    let (_, d3) = s.frame(false, 2);
    let out = feed(&mut a, &d3, now + Duration::from_secs(5));
    assert_eq!(requests(&out), 1, "asked again when packets are back");
}

#[test]
fn garbage_and_wild_sequence_numbers_hold_bounded_memory() {
    let t0 = Instant::now();
    let mut a = Vp8Assembler::new();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for i in 0..20_000u64 {
        let r = rand();
        let seq = match r % 4 {
            0 => r >> 16,                   // anywhere
            1 => 5_000 + (r >> 8) % 10_000, // a wide window
            _ => 5_000 + i,                 // a run with holes
        };
        let len = (rand() % 40) as usize;
        let payload: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
        let now = ms(t0, i);
        a.push(seq, rand() as u32, r & 0x100 != 0, &payload, now);
        a.poll(now, &mut out);
        assert!(a.packets.len() <= MAX_PACKETS);
        if let Some(at) = a.poll_timeout() {
            assert!(at >= now, "no timeout in the past");
        }
        out.clear();
    }
}
