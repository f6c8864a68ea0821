//! Offers exactly as Chromium makes them for the browser guest page
//! (captured from Chromium 156 with a fake camera: one sendonly audio, one
//! sendonly video with `sendEncodings` l/4, m/2, h, and two receive slots of
//! each kind) are answered the way Chromium needs: ICE-lite with our
//! candidate, the DTLS server role, its simulcast layers lowest first, RTX,
//! and the header extensions the SFU reads or forwards.

use std::net::SocketAddr;
use std::time::Instant;

use confab_sfu::{Sfu, SfuConfig};

/// With codecs narrowed to Opus and VP8+RTX, as the guest page does.
const NARROWED: &str = include_str!("fixtures/chromium-156-offer.sdp");
/// Every codec Chromium has (a browser without `setCodecPreferences`).
const ALL_CODECS: &str = include_str!("fixtures/chromium-156-offer-all-codecs.sdp");

fn answer(offer: &str) -> String {
    let candidate: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let mut sfu = Sfu::new(SfuConfig {
        candidates: vec![candidate],
        initial_bitrate: 1_000_000,
    });
    sfu.add_peer(Instant::now(), 1, 7, offer)
        .expect("Chromium's offer is accepted")
}

/// The lines of the m-section with `a=mid:{mid}`.
fn section<'a>(sdp: &'a str, mid: &str) -> Vec<&'a str> {
    let mut sections = sdp.split("\r\nm=").skip(1);
    let wanted = format!("a=mid:{mid}");
    sections
        .find(|s| s.lines().any(|l| l == wanted))
        .map(|s| s.lines().collect())
        .unwrap_or_default()
}

fn has_ext(lines: &[&str], uri: &str) -> bool {
    lines
        .iter()
        .any(|l| l.starts_with("a=extmap:") && l.ends_with(uri))
}

#[test]
fn chromium_offers_are_answered_ice_lite_as_dtls_server_with_every_line() {
    for offer in [NARROWED, ALL_CODECS] {
        assert!(offer.contains("a=setup:actpass") && offer.contains("a=simulcast:send l;m;h"));
        let answer = answer(offer);
        assert!(answer.contains("a=ice-lite"), "{answer}");
        assert!(answer.contains("a=candidate:") && answer.contains("127.0.0.1 50000 typ host"));
        // Chromium offers actpass; it is the DTLS client against our passive side.
        assert_eq!(answer.matches("a=setup:passive").count(), 6, "{answer}");
        assert_eq!(answer.matches("\r\nm=").count(), 6, "every m-line answered");
        assert!(answer.contains("a=group:BUNDLE 0 1 2 3 4 5"));
    }
}

#[test]
fn chromium_simulcast_is_received_lowest_first_with_rtx_and_its_extensions() {
    for offer in [NARROWED, ALL_CODECS] {
        let answer = answer(offer);
        let video = section(&answer, "1");
        assert!(video.contains(&"a=recvonly"), "{video:?}");
        assert!(
            video.contains(&"a=simulcast:recv l;m;h"),
            "lowest first, as the SFU orders layers before keyframes say their sizes: {video:?}"
        );
        assert!(video.iter().any(|l| l.ends_with(" VP8/90000")));
        assert!(
            video.iter().any(|l| l.ends_with(" rtx/90000")),
            "RTX for retransmissions"
        );
        assert!(
            !video
                .iter()
                .any(|l| l.contains("H264") || l.contains("VP9") || l.contains("AV1"))
        );
        for uri in [
            "urn:ietf:params:rtp-hdrext:sdes:mid",
            "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        ] {
            assert!(has_ext(&video, uri), "video keeps {uri}");
        }

        let audio = section(&answer, "0");
        assert!(audio.contains(&"a=recvonly"));
        assert!(audio.iter().any(|l| l.ends_with(" opus/48000/2")));
        assert!(
            has_ext(&audio, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
            "audio levels drive the active speaker"
        );

        // The receive slots: the SFU sends into them, video with RTX.
        for (mid, kind) in [
            ("2", "audio"),
            ("3", "video"),
            ("4", "audio"),
            ("5", "video"),
        ] {
            let slot = section(&answer, mid);
            assert!(slot.contains(&"a=sendonly"), "slot {mid}: {slot:?}");
            assert!(
                slot.iter().any(|l| l.starts_with("a=ssrc:")),
                "slot {mid} names its SSRC"
            );
            if kind == "video" {
                assert!(
                    slot.iter().any(|l| l.starts_with("a=ssrc-group:FID ")),
                    "slot {mid} has RTX"
                );
            }
        }
    }
}
