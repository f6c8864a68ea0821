//! confab: the fork's shortcuts must change nothing an application sees. Each
//! test runs the same inputs through two `Rtc`s, one kept on str0m's full paths
//! by counting a change before every input and poll (`Readiness::wake`), and
//! compares everything both output: datagrams, events, and every timeout with
//! its reason, at the same instants. They are driven as an SFU drives a peer:
//! drained after each datagram in, written to, polled, timed out when due.
//!
//! The shortcuts: `Session::handle_timeout_written` (a timeout after written
//! packets alone), `Session::take_quiet_receive` (a received RTP packet that
//! moves no cached timer earlier), `Session::poll_event_counted` (no stream
//! walk for events while nothing that raises them happened) and
//! `Streams::poll_remb_request` (no walk of the send streams until a REMB
//! arrives).

use std::time::{Duration, Instant};

use crate::bwe::{Bitrate, BweKind};
use crate::crypto::dtls::{KeyingMaterial, SrtpProfile};
use crate::format::Codec;
use crate::media::MediaKind;
use crate::net::{Protocol, Receive};
use crate::rtp::{RtpWrite, SeqNo};
use crate::rtp_::Pt;
use crate::{Event, Input, Output, Rtc, SendAddr};

#[derive(Debug, PartialEq)]
enum Seen {
    /// SSRC and sequence number from the clear RTP header.
    Rtp(u32, u16),
    Rtcp(usize),
    Timeout(Duration, String),
    /// A received packet handed to the application: SSRC, extended sequence number.
    Received(u32, u64),
    Event(String),
}

/// An `Rtc` in RTP mode with SRTP keys (the two ends of a call take opposite
/// halves: `active`) and a send address, as after ICE and DTLS.
/// Regular RTCP reports every `reports` when given.
fn keyed_rtc(start: Instant, active: bool, bwe: Option<Bitrate>, reports: Option<Duration>) -> Rtc {
    let mut config = Rtc::builder().set_rtp_mode(true).enable_bwe(bwe);
    if let Some(every) = reports {
        config = config
            .set_rtcp_report_interval_audio(every)
            .set_rtcp_report_interval_video(every);
    }
    let mut rtc = config.build(start);
    let profile = SrtpProfile::AEAD_AES_128_GCM;
    let mat = KeyingMaterial::new(&vec![0; profile.keying_material_len()]);
    rtc.session
        .set_keying_material(mat, crate::crypto::test_default_provider(), profile, active);
    rtc.send_addr = Some(SendAddr {
        proto: Protocol::Udp,
        source: "127.0.0.1:1000".parse().unwrap(),
        destination: "127.0.0.1:2000".parse().unwrap(),
    });
    rtc
}

fn pt_of(rtc: &Rtc, codec: Codec) -> Pt {
    rtc.session
        .codec_config
        .params()
        .iter()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
        .unwrap()
}

/// Writes a packet of `size` bytes to send stream `ssrc`, `ms` into the call.
fn write(rtc: &mut Rtc, ssrc: u32, pt: Pt, seq: &mut u64, at: (Instant, u64), size: usize) {
    let (start, ms) = at;
    let now = start + Duration::from_millis(ms);
    let write = RtpWrite::new(pt, SeqNo::from(*seq), ms as u32 * 90, now, vec![1; size]);
    *seq += 1;
    rtc.direct_api()
        .stream_tx(&ssrc.into())
        .unwrap()
        .write_rtp(write);
}

fn transmitted(bytes: &[u8]) -> Seen {
    if (192..=223).contains(&bytes[1]) {
        Seen::Rtcp(bytes.len())
    } else {
        let ssrc = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        Seen::Rtp(ssrc, u16::from_be_bytes([bytes[2], bytes[3]]))
    }
}

/// What came out, and at which millisecond of the call.
type Log = Vec<(u64, Seen)>;

/// Polls until `rtc` names a timeout, handing `out` each output; counts a
/// change before every poll when `full`.
fn drain(rtc: &mut Rtc, full: bool, out: &mut impl FnMut(&Rtc, Output)) -> Instant {
    loop {
        if full {
            drop(rtc.readiness.wake());
        }
        let output = rtc.poll_output().unwrap();
        let timeout = match output {
            Output::Timeout(at) => Some(at),
            _ => None,
        };
        out(rtc, output);
        if let Some(at) = timeout {
            return at;
        }
    }
}

/// Gives `rtc` the timeouts due at `now` (a bounded number), draining after each.
fn time_out(rtc: &mut Rtc, full: bool, now: Instant, out: &mut impl FnMut(&Rtc, Output)) {
    for _ in 0..10 {
        if drain(rtc, full, out) > now {
            return;
        }
        if full {
            drop(rtc.readiness.wake());
        }
        rtc.handle_input(Input::Timeout(now)).unwrap();
    }
}

/// Notes outputs in `log` as seen `ms` into the call.
fn note(log: &mut Log, start: Instant, ms: u64) -> impl FnMut(&Rtc, Output) + '_ {
    move |rtc, output| {
        let seen = match output {
            Output::Timeout(at) => {
                let reason = format!("{:?}", rtc.last_timeout_reason());
                Seen::Timeout(at.saturating_duration_since(start), reason)
            }
            Output::Transmit(t) => transmitted(&t.contents),
            Output::Event(Event::RtpPacket(p)) => Seen::Received(*p.header.ssrc, *p.seq_no),
            Output::Event(e) => Seen::Event(format!("{e:?}")),
        };
        log.push((ms, seen));
    }
}

/// Everything the full run output, the other run output too, in the same order.
fn assert_same(by_full: &Log, by_other: &Log) {
    for (i, (full, other)) in by_full.iter().zip(by_other).enumerate() {
        assert_eq!(full, other, "output {i}");
    }
    assert_eq!(by_full.len(), by_other.len());
}

#[test]
fn timeouts_after_writes_alone_send_what_full_timeouts_would() {
    let start = Instant::now();
    let run = |full: bool| {
        let mut rtc = keyed_rtc(start, true, Some(Bitrate::kbps(1000)), None);
        let (video_pt, audio_pt) = (pt_of(&rtc, Codec::Vp8), pt_of(&rtc, Codec::Opus));
        let mut api = rtc.direct_api();
        api.declare_media("vid".into(), MediaKind::Video);
        api.declare_media("aud".into(), MediaKind::Audio);
        api.declare_stream_tx(1.into(), None, "vid".into(), None);
        api.declare_stream_tx(3.into(), None, "aud".into(), None);

        let mut seen = Log::new();
        let (mut video_seq, mut audio_seq) = (0, 0);
        for ms in 0..4000_u64 {
            // Video over the 1 Mbit/s estimate (10 × 1000 bytes per 34 ms is
            // 2.4 Mbit/s), so the pacer holds packets back, plus unpaced audio,
            // never written at the same instant: where two queues tie, the pacer
            // takes the first in a `HashMap`'s order, which differs between two
            // `Rtc`s.
            if ms < 2000 && ms % 34 == 0 {
                for _ in 0..10 {
                    write(&mut rtc, 1, video_pt, &mut video_seq, (start, ms), 1000);
                }
            }
            if ms < 2000 && ms % 20 == 11 {
                write(&mut rtc, 3, audio_pt, &mut audio_seq, (start, ms), 100);
            }
            let now = start + Duration::from_millis(ms);
            time_out(&mut rtc, full, now, &mut note(&mut seen, start, ms));
        }
        (seen, rtc.session.written_timeouts)
    };

    let (by_full, none) = run(true);
    let (by_written, written) = run(false);
    assert_eq!(none, 0);
    assert!(written > 200, "{written} timeouts after writes alone");
    let rtp = |log: &Log, ssrc| {
        log.iter()
            .filter(|(_, s)| matches!(s, Seen::Rtp(x, _) if *x == ssrc))
            .count()
    };
    // Everything written was sent, and the pacer did hold video back.
    assert_eq!(rtp(&by_written, 1), 59 * 10);
    assert_eq!(rtp(&by_written, 3), 100);
    assert!(
        by_written
            .iter()
            .any(|(ms, s)| matches!(s, Seen::Rtp(1, _)) && ms % 34 != 0)
    );
    assert!(by_written.iter().any(|(_, s)| matches!(s, Seen::Rtcp(_))));
    assert_same(&by_full, &by_written);
}

/// How often the receiving `Rtc` wakes for its own reasons.
#[derive(Clone, Copy)]
enum Timers {
    /// str0m's defaults, with NACK and TWCC feedback: reports every second.
    Default,
    /// Reports every 10 s, no NACK or TWCC: nothing walks the streams for
    /// seconds, so a paused check left out of the cached timers would be missed.
    Sparse,
}

/// When the publisher sends video: it stops for longer than the 1.5 s a
/// receive stream takes to pause, comes back, and (sparse) stops again.
fn publishing(timers: Timers, ms: u64) -> bool {
    match timers {
        Timers::Default => !(1000..2700).contains(&ms),
        Timers::Sparse => ms < 1000 || (2700..3000).contains(&ms),
    }
}

fn call_ms(timers: Timers) -> u64 {
    match timers {
        Timers::Default => 4000,
        Timers::Sparse => 5000,
    }
}

fn reports(timers: Timers) -> Option<Duration> {
    match timers {
        Timers::Default => None,
        Timers::Sparse => Some(Duration::from_secs(10)),
    }
}

/// What a publisher sends an SFU, as (millisecond, datagram): video on SSRC 7,
/// 3 packets per frame, while `publishing`, and its sender reports.
fn publisher_datagrams(start: Instant, timers: Timers) -> Vec<(u64, Vec<u8>)> {
    let mut rtc = keyed_rtc(start, false, None, reports(timers));
    let pt = pt_of(&rtc, Codec::Vp8);
    let mut api = rtc.direct_api();
    api.declare_media("cam".into(), MediaKind::Video);
    api.declare_stream_tx(7.into(), None, "cam".into(), None);
    let mut out = vec![];
    let mut seq = 0;
    for ms in 0..call_ms(timers) {
        let now = start + Duration::from_millis(ms);
        if ms % 33 == 0 && publishing(timers, ms) {
            for _ in 0..3 {
                write(&mut rtc, 7, pt, &mut seq, (start, ms), 600);
            }
        }
        time_out(&mut rtc, false, now, &mut |_, output| {
            if let Output::Transmit(t) = output {
                out.push((ms, t.contents.to_vec()));
            }
        });
    }
    out
}

/// A participant's `Rtc` in an SFU, run through the call: it receives the
/// publisher's video, and is sent others' video (over its estimate, so paced)
/// and audio.
fn participant(start: Instant, timers: Timers, published: &[(u64, Vec<u8>)], full: bool) -> (Log, usize) {
    let mut rtc = keyed_rtc(start, true, Some(Bitrate::kbps(1000)), reports(timers));
    if matches!(timers, Timers::Default) {
        rtc.session.enable_twcc_feedback();
    }
    let (video_pt, audio_pt) = (pt_of(&rtc, Codec::Vp8), pt_of(&rtc, Codec::Opus));
    let mut api = rtc.direct_api();
    api.declare_media("cam".into(), MediaKind::Video);
    api.declare_media("vid".into(), MediaKind::Video);
    api.declare_media("aud".into(), MediaKind::Audio);
    api.expect_stream_rx(7.into(), None, "cam".into(), None)
        .suppress_nack(matches!(timers, Timers::Sparse));
    api.declare_stream_tx(1.into(), None, "vid".into(), None);
    api.declare_stream_tx(3.into(), None, "aud".into(), None);

    let mut log = Log::new();
    let mut published = published.iter().peekable();
    let (mut video_seq, mut audio_seq) = (0, 0);
    for ms in 0..call_ms(timers) {
        let now = start + Duration::from_millis(ms);
        while let Some((_, datagram)) = published.next_if(|(at, _)| *at == ms) {
            if full {
                drop(rtc.readiness.wake());
            }
            let receive = Receive {
                proto: Protocol::Udp,
                source: "127.0.0.1:2000".parse().unwrap(),
                destination: "127.0.0.1:1000".parse().unwrap(),
                contents: datagram.as_slice().try_into().unwrap(),
            };
            rtc.handle_input(Input::Receive(now, receive)).unwrap();
            drain(&mut rtc, full, &mut note(&mut log, start, ms));
        }
        if ms % 34 == 5 {
            for _ in 0..6 {
                write(&mut rtc, 1, video_pt, &mut video_seq, (start, ms), 1000);
            }
        }
        if ms % 20 == 11 {
            write(&mut rtc, 3, audio_pt, &mut audio_seq, (start, ms), 100);
        }
        time_out(&mut rtc, full, now, &mut note(&mut log, start, ms));
    }
    (log, rtc.session.quiet_receives)
}

#[test]
fn quiet_receives_send_and_tell_what_full_timeouts_would() {
    let start = Instant::now();
    for timers in [Timers::Default, Timers::Sparse] {
        let published = publisher_datagrams(start, timers);
        let (by_full, none) = participant(start, timers, &published, true);
        let (by_quiet, quiet) = participant(start, timers, &published, false);
        assert_eq!(none, 0);
        assert!(quiet > 50, "{quiet} quiet receives");
        let count = |f: &dyn Fn(&Seen) -> bool| by_quiet.iter().filter(|(_, s)| f(s)).count();
        // Every packet published was received; the stream (paused until its
        // first packet) came up, paused, came back, and (sparse) paused again;
        // reports or feedback went out.
        let frames = (0..call_ms(timers)).filter(|ms| ms % 33 == 0 && publishing(timers, *ms));
        assert_eq!(count(&|s| matches!(s, Seen::Received(7, _))), frames.count() * 3);
        let paused = |p: bool| {
            let text = format!("paused: {p}");
            count(&|s| matches!(s, Seen::Event(e) if e.contains(&text)))
        };
        let pauses = match timers {
            Timers::Default => 1,
            Timers::Sparse => 2,
        };
        assert_eq!((paused(true), paused(false)), (pauses, 2));
        assert!(count(&|s| matches!(s, Seen::Rtcp(_))) > 0);
        assert!(count(&|s| matches!(s, Seen::Rtp(1, _))) > 600);
        assert_same(&by_full, &by_quiet);
    }
}

/// A REMB the remote sends about a stream we send is told once, with its
/// media, and a later one again: the walk for it is skipped in between.
#[test]
fn each_remb_received_is_told_once() {
    let start = Instant::now();
    let mut sender = keyed_rtc(start, true, None, None);
    let mut receiver = keyed_rtc(start, false, None, None);
    sender.direct_api().declare_media("vid".into(), MediaKind::Video);
    sender.direct_api().declare_stream_tx(1.into(), None, "vid".into(), None);
    receiver.direct_api().declare_media("vid".into(), MediaKind::Video);
    receiver.direct_api().expect_stream_rx(1.into(), None, "vid".into(), None);

    let mut told = vec![];
    for (ms, kbps) in [(10, 500), (400, 700)] {
        let now = start + Duration::from_millis(ms);
        receiver
            .direct_api()
            .stream_rx(&1.into())
            .unwrap()
            .request_remb(Bitrate::kbps(kbps));
        let mut datagrams = vec![];
        time_out(&mut receiver, false, now, &mut |_, output| {
            if let Output::Transmit(t) = output {
                datagrams.push(t.contents.to_vec());
            }
        });
        assert!(!datagrams.is_empty(), "the receiver sent its feedback");
        for datagram in &datagrams {
            let receive = Receive {
                proto: Protocol::Udp,
                source: "127.0.0.1:2000".parse().unwrap(),
                destination: "127.0.0.1:1000".parse().unwrap(),
                contents: datagram.as_slice().try_into().unwrap(),
            };
            sender.handle_input(Input::Receive(now, receive)).unwrap();
            // Drained twice: the second finds nothing more to tell.
            for _ in 0..2 {
                drain(&mut sender, false, &mut |_, output| {
                    if let Output::Event(Event::EgressBitrateEstimate(BweKind::Remb {
                        estimate,
                        mid,
                    })) = output
                    {
                        told.push((ms, mid.to_string(), estimate));
                    }
                });
            }
        }
    }
    assert_eq!(
        told,
        [
            (10, "vid".to_string(), Bitrate::kbps(500)),
            (400, "vid".to_string(), Bitrate::kbps(700)),
        ]
    );
}
