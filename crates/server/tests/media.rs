//! Media through the host's SFU over real sockets: offer/answer on the
//! signalling WebSocket, RTP over UDP on loopback.

mod common;

use std::time::{Duration, Instant};

use common::rtc::{Inbox, MEDIA_WAIT, MediaClient, connect_media, gaps, wait_for, you};
use common::{Client, TestServer};
use confab_proto::signal::{ClientMessage, ErrorCode, ServerMessage};
use confab_server::meetings::NewMeeting;
use confab_server::ratelimit::Limit;
use confab_sfu::SfuStats;

fn send_layers(msg: &ServerMessage) -> Option<Vec<String>> {
    match msg {
        ServerMessage::SendLayers { rids } => Some(rids.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn audio_and_video_flow_through_the_sfu_and_leaving_frees_the_slots() {
    let s = TestServer::start(None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Media")).await;
    let mut a = Client::greeted(&s).await;
    let a_id = you(&a.join(m.code.as_str(), "A").await);
    let mut b = Client::greeted(&s).await;
    let b_id = you(&b.join(m.code.as_str(), "B").await);
    assert!(
        s.server.ready().media_udp == s.server.media_port() && s.server.media_port() != 0,
        "clients find the media port in the ready data"
    );

    // A talks (-30 dBov), B is quiet.
    let media_a = connect_media(&mut a, 1).await;
    let media_b = connect_media(&mut b, 1).await;
    media_b.state().audio_level = -90;
    let (mut a, mut b) = (Inbox::new(a), Inbox::new(b));

    // B learns in which of its slots A arrives.
    let slots = b
        .expect(
            |m| matches!(m, ServerMessage::MediaSlots { participant, .. } if *participant == a_id),
        )
        .await;
    let ServerMessage::MediaSlots {
        audio_mid: Some(audio),
        video_mid: Some(video),
        ..
    } = slots
    else {
        panic!("A publishes both kinds: {slots:?}");
    };
    wait_for(&media_b, "audio and video from A", |c| {
        c.received(&audio).len() >= 25 && c.received(&video).len() >= 15
    })
    .await;

    let audio_in = media_b.received(&audio);
    assert_eq!(gaps(&audio_in), vec![], "audio in order without gaps");
    assert!(
        audio_in.iter().all(|p| p.audio_level == Some(-30)),
        "the audio level travels with the packets"
    );
    let video_in = media_b.received(&video);
    assert!(video_in[0].keyframe, "B starts at a keyframe");
    assert_eq!(gaps(&video_in), vec![], "video in order without gaps");
    let tags: Vec<(u8, u32, u8)> = video_in.iter().filter_map(|p| p.tag).collect();
    assert_eq!(tags.len(), video_in.len(), "VP8 payloads arrive untouched");
    assert!(
        tags.iter().all(|t| t.0 == 0),
        "an unsized tile gets the low layer"
    );
    assert!(
        tags.windows(2).all(|w| w[1].1 == w[0].1 + 1),
        "every frame, in order: {tags:?}"
    );
    // A receives B the same way, is told only its low layer is wanted,
    // and both hear that A is the active speaker.
    a.expect(
        |m| matches!(m, ServerMessage::MediaSlots { participant, .. } if *participant == b_id),
    )
    .await;
    // (Before B subscribed, A was told nobody wants any layer.)
    a.expect(|m| send_layers(m).is_some_and(|r| r == ["l"]))
        .await;
    for inbox in [&mut a, &mut b] {
        inbox
            .expect(|m| matches!(m, ServerMessage::ActiveSpeaker { participant } if *participant == a_id))
            .await;
    }
    assert_eq!(s.server.media().stats().peers, 2);

    // B shows A big: A is asked for its top layer, and B's slot switches
    // to it at a keyframe without a gap in the stream.
    b.ws.send(&ClientMessage::View {
        participant: a_id,
        width: 1280,
        height: 720,
    })
    .await;
    // Until the top layer's keyframe arrives the low one keeps flowing.
    a.expect(|m| send_layers(m).is_some_and(|r| r == ["l", "h"]))
        .await;
    wait_for(&media_b, "A's top layer", |c| {
        c.received(&video)
            .iter()
            .any(|p| p.tag.is_some_and(|t| t.0 == 2))
    })
    .await;
    let video_in = media_b.received(&video);
    assert_eq!(
        gaps(&video_in),
        vec![],
        "one continuous stream across the switch"
    );
    let first_high = video_in
        .iter()
        .position(|p| p.tag.is_some_and(|t| t.0 == 2))
        .expect("high layer arrived");
    assert!(
        video_in[first_high].keyframe,
        "the switch happens at a keyframe"
    );
    a.expect(|m| send_layers(m).is_some_and(|r| r == ["h"]))
        .await;

    a.ws.send(&ClientMessage::Leave).await;
    b.expect(
        |m| matches!(m, ServerMessage::MediaSlotFreed { participant } if *participant == a_id),
    )
    .await;
    let stats = s.server.media().stats();
    assert_eq!((stats.peers, stats.rooms), (1, 1), "nothing of A is left");
    drop(media_a);

    b.ws.send(&ClientMessage::Leave).await;
    b.expect(|m| matches!(m, ServerMessage::Left)).await;
    let give_up = Instant::now() + Duration::from_secs(2);
    while s.server.media().stats() != SfuStats::default() {
        assert!(Instant::now() < give_up, "{:?}", s.server.media().stats());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(media_b);
}

#[tokio::test]
async fn offers_before_joining_and_bad_sdp_are_refused_with_typed_errors() {
    let s = TestServer::start(None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Media")).await;
    let mut c = Client::greeted(&s).await;
    let (_media, sdp) = MediaClient::offer(1).await;

    c.send(&ClientMessage::Offer { sdp: sdp.clone() }).await;
    match c.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::OutOfOrder),
        other => panic!("expected out_of_order, got {other:?}"),
    }
    c.send(&ClientMessage::View {
        participant: 1,
        width: 320,
        height: 180,
    })
    .await;
    match c.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::OutOfOrder),
        other => panic!("expected out_of_order, got {other:?}"),
    }

    let me = you(&c.join(m.code.as_str(), "A").await);
    c.send(&ClientMessage::View {
        participant: me + 1,
        width: 320,
        height: 180,
    })
    .await;
    match c.recv().await {
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::OutOfOrder);
            assert!(message.contains("offer"), "{message}");
        }
        other => panic!("view before offer: expected out_of_order, got {other:?}"),
    }
    c.send(&ClientMessage::Offer {
        sdp: "v=0\r\nthis is not sdp".into(),
    })
    .await;
    match c.recv().await {
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::InvalidMessage);
            assert!(
                message.starts_with("The offer was refused: the offer is not valid SDP: "),
                "{message}"
            );
        }
        other => panic!("expected invalid_message, got {other:?}"),
    }
    assert_eq!(s.server.media().stats(), SfuStats::default());

    // The connection is still good: a real offer is answered.
    c.send(&ClientMessage::Offer { sdp }).await;
    assert!(matches!(c.recv().await, ServerMessage::Answer { .. }));
    assert_eq!(s.server.media().stats().peers, 1);
}

#[tokio::test]
async fn thirty_media_join_leave_cycles_leave_nothing_behind() {
    // Every visitor joins from 127.0.0.1: lift the per-address join limit.
    let s = TestServer::start(None, |c| {
        c.signalling.joins = Limit {
            max: 1000,
            window: Duration::from_secs(10),
        };
    })
    .await;
    let m = s.meeting(NewMeeting::titled("Cycles")).await;
    let mut a = Client::greeted(&s).await;
    you(&a.join(m.code.as_str(), "Stayer").await);
    let _media_a = connect_media(&mut a, 1).await;
    let mut a = Inbox::new(a);
    a.expect(|m| send_layers(m).is_some()).await;
    // Settled once the stayer's own audio reaches the speaker detector.
    let give_up = Instant::now() + MEDIA_WAIT;
    while s.server.media().stats().speakers == 0 {
        assert!(Instant::now() < give_up, "no audio from the stayer");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let baseline = s.server.media().stats();
    assert_eq!((baseline.peers, baseline.rooms, baseline.feeds), (1, 1, 0));

    for cycle in 0..30 {
        let mut b = Client::greeted(&s).await;
        let b_id = you(&b.join(m.code.as_str(), &format!("Visitor {cycle}")).await);
        let media_b = connect_media(&mut b, 1).await;
        a.expect(
            |m| matches!(m, ServerMessage::MediaSlots { participant, .. } if *participant == b_id),
        )
        .await;
        b.send(&ClientMessage::Leave).await;
        b.recv_until(|m| matches!(m, ServerMessage::Left)).await;
        a.expect(
            |m| matches!(m, ServerMessage::MediaSlotFreed { participant } if *participant == b_id),
        )
        .await;
        drop(media_b);
        assert_eq!(s.lines_in_use().await, 1, "after cycle {cycle}");
        let give_up = Instant::now() + Duration::from_secs(2);
        while s.server.media().stats() != baseline {
            assert!(
                Instant::now() < give_up,
                "after cycle {cycle}: {:?} != {baseline:?}",
                s.server.media().stats()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
