//! Media when a client reconnects or runs out of slots, over real
//! sockets: a resumed signalling connection is told its slots again, a
//! second offer replaces the media connection (a bad one does not), a
//! subscriber without a free slot is told so, and an IPv4 client reaches
//! a server listening on `[::]`.

mod common;

use common::rtc::{Inbox, MediaClient, connect_media, wait_for, you};
use common::{Client, TestServer};
use confab_proto::signal::{ClientMessage, ErrorCode, ServerMessage};
use confab_server::meetings::NewMeeting;

fn slots_for(msg: &ServerMessage, who: u64) -> Option<(String, String)> {
    match msg {
        ServerMessage::MediaSlots {
            participant,
            audio_mid: Some(audio),
            video_mid: Some(video),
        } if *participant == who => Some((audio.clone(), video.clone())),
        _ => None,
    }
}

fn freed(msg: &ServerMessage, who: u64) -> bool {
    matches!(msg, ServerMessage::MediaSlotFreed { participant } if *participant == who)
}

/// Two participants with media flowing both ways.
struct Pair {
    a: Inbox,
    a_id: u64,
    media_a: MediaClient,
    b: Inbox,
    b_id: u64,
    b_token: String,
    media_b: MediaClient,
    /// The slots B receives A in: (audio, video).
    b_slots: (String, String),
}

async fn pair(s: &TestServer) -> Pair {
    let m = s.meeting(NewMeeting::titled("Media")).await;
    let mut a = Client::greeted(s).await;
    let a_id = you(&a.join(m.code.as_str(), "A").await);
    let mut b = Client::greeted(s).await;
    let joined = b.join(m.code.as_str(), "B").await;
    let ServerMessage::Joined {
        you: b_you,
        resume_token: b_token,
        ..
    } = joined
    else {
        panic!("expected joined, got {joined:?}");
    };
    let media_a = connect_media(&mut a, 1).await;
    let media_b = connect_media(&mut b, 1).await;
    let (a, mut b) = (Inbox::new(a), Inbox::new(b));
    let slots = b.expect(|m| slots_for(m, a_id).is_some()).await;
    let b_slots = slots_for(&slots, a_id).expect("matched");
    let audio = b_slots.0.clone();
    wait_for(&media_b, "audio from A", |c| c.received(&audio).len() >= 10).await;
    Pair {
        a,
        a_id,
        media_a,
        b,
        b_id: b_you.id,
        b_token,
        media_b,
        b_slots,
    }
}

#[tokio::test]
async fn a_resumed_connection_is_told_its_media_slots_again() {
    let s = TestServer::start(None, |_| {}).await;
    let p = pair(&s).await;
    let audio = p.b_slots.0.clone();

    // B's signalling drops (its media keeps flowing) and comes back.
    drop(p.b);
    let mut again = Client::greeted(&s).await;
    again
        .send(&ClientMessage::Resume { token: p.b_token })
        .await;
    let mut again = Inbox::new(again);
    again
        .expect(|m| matches!(m, ServerMessage::Joined { .. }))
        .await;
    let slots = again.expect(|m| slots_for(m, p.a_id).is_some()).await;
    assert_eq!(
        slots_for(&slots, p.a_id).map(|s| s.0),
        Some(audio.clone()),
        "told where A arrives, as before"
    );
    let count = p.media_b.received(&audio).len();
    wait_for(&p.media_b, "more audio from A", |c| {
        c.received(&audio).len() > count + 10
    })
    .await;
}

#[tokio::test]
async fn a_second_offer_replaces_the_media_connection_and_others_get_its_slots_again() {
    let s = TestServer::start(None, |_| {}).await;
    let Pair {
        mut a,
        a_id,
        media_a,
        mut b,
        b_id,
        media_b,
        ..
    } = pair(&s).await;

    // A's network changed: a new offer from a new socket.
    let replaced = connect_media(&mut a.ws, 1).await;
    drop(media_a);
    b.expect(|m| freed(m, a_id)).await;
    let slots = b.expect(|m| slots_for(m, a_id).is_some()).await;
    let (audio, _) = slots_for(&slots, a_id).expect("matched");
    a.expect(|m| slots_for(m, b_id).is_some()).await;
    let count = media_b.received(&audio).len();
    wait_for(&media_b, "audio from A's new connection", |c| {
        c.received(&audio).len() > count + 10
    })
    .await;
    assert_eq!(s.server.media().stats().peers, 2);
    drop(replaced);
}

#[tokio::test]
async fn a_bad_second_offer_keeps_the_working_media_connection() {
    let s = TestServer::start(None, |_| {}).await;
    let Pair {
        mut a,
        a_id,
        media_a: _media_a,
        mut b,
        media_b,
        b_slots: (audio, _),
        ..
    } = pair(&s).await;

    a.ws.send(&ClientMessage::Offer {
        sdp: "v=0\r\nnot an offer".into(),
    })
    .await;
    let refused = a
        .expect(|m| {
            matches!(
                m,
                ServerMessage::Error { .. } | ServerMessage::Answer { .. }
            )
        })
        .await;
    assert!(
        matches!(
            refused,
            ServerMessage::Error {
                code: ErrorCode::InvalidMessage,
                ..
            }
        ),
        "{refused:?}"
    );
    let count = media_b.received(&audio).len();
    wait_for(&media_b, "audio from A after the bad offer", |c| {
        c.received(&audio).len() > count + 25
    })
    .await;
    assert_eq!(s.server.media().stats().peers, 2);
    // B was never told A's slots were freed.
    b.ws.send(&ClientMessage::Heartbeat).await;
    let next = b
        .expect(|m| freed(m, a_id) || matches!(m, ServerMessage::HeartbeatAck))
        .await;
    assert!(matches!(next, ServerMessage::HeartbeatAck), "{next:?}");
}

#[tokio::test]
async fn a_subscriber_without_a_free_slot_is_told_how_many_it_shows() {
    let s = TestServer::start(None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Media")).await;
    let mut clients = Vec::new();
    let mut media = Vec::new();
    // C offers one slot for two others; each connects before the next joins.
    for (name, slots) in [("A", 2), ("B", 2), ("C", 1)] {
        let mut ws = Client::greeted(&s).await;
        let id = you(&ws.join(m.code.as_str(), name).await);
        let peer = connect_media(&mut ws, slots).await;
        let mut inbox = Inbox::new(ws);
        // Everyone before it fits in its slots but the last one for C.
        for (other, _) in clients.iter().take(slots) {
            inbox.expect(|m| slots_for(m, *other).is_some()).await;
        }
        clients.push((id, inbox));
        media.push(peer);
    }
    let b_id = clients[1].0;
    let full = clients[2]
        .1
        .expect(|m| matches!(m, ServerMessage::MediaSlotsFull { .. }))
        .await;
    assert_eq!(
        full,
        ServerMessage::MediaSlotsFull {
            participant: b_id,
            shown: 1,
            others: 2
        }
    );
}

#[tokio::test]
async fn an_ipv4_client_reaches_a_dual_stack_server() {
    // Dual stack needs IPv6 on loopback; without it the address
    // normalisation is covered by the media driver's unit tests.
    if std::net::UdpSocket::bind("[::]:0").is_err() {
        eprintln!("no IPv6 here: skipped");
        return;
    }
    let s = TestServer::start_on("[::]:0", None, |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Media")).await;
    let mut a = Client::greeted(&s).await;
    let a_id = you(&a.join(m.code.as_str(), "A").await);
    let mut b = Client::greeted(&s).await;
    you(&b.join(m.code.as_str(), "B").await);
    // Both media clients are on 127.0.0.1: the server sees them as
    // ::ffff:127.0.0.1 on its [::] socket.
    let _media_a = connect_media(&mut a, 1).await;
    let media_b = connect_media(&mut b, 1).await;
    let mut b = Inbox::new(b);
    let slots = b.expect(|m| slots_for(m, a_id).is_some()).await;
    let (audio, video) = slots_for(&slots, a_id).expect("matched");
    wait_for(&media_b, "media from A over the dual-stack socket", |c| {
        c.received(&audio).len() >= 10 && !c.received(&video).is_empty()
    })
    .await;
}
