//! The frame socket over real loopback sockets, with a tungstenite client
//! standing in for the page.

use std::time::Duration;

use confab_media::synth::video::{TestPattern, read_stamp};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::*;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &FrameServer) -> Client {
    let socket = server.socket();
    let url = format!("ws://127.0.0.1:{}/?token={}", socket.port, socket.token);
    connect_async(url).await.expect("the page connects").0
}

async fn subscribe(client: &mut Client, tile: u32, stream: &str, size: (u32, u32)) {
    let request = format!(
        r#"{{"type":"subscribe","tile":{tile},"stream":"{stream}","width":{},"height":{}}}"#,
        size.0, size.1
    );
    client.send(Message::text(request)).await.unwrap();
}

async fn next_message(client: &mut Client) -> Message {
    tokio::time::timeout(WAIT, client.next())
        .await
        .expect("a message in time")
        .expect("the socket is open")
        .expect("a well-formed message")
}

async fn ack(client: &mut Client, tile: u32) {
    let ack = format!(r#"{{"type":"ack","tile":{tile}}}"#);
    client.send(Message::text(ack)).await.unwrap();
}

/// The next frame (header and the I420 picture it carries), acked as a
/// page acks it once drawn.
async fn next_frame(client: &mut Client) -> (FrameHeader, VideoFrame) {
    let (header, picture) = next_unacked_frame(client).await;
    ack(client, header.tile).await;
    (header, picture)
}

async fn next_unacked_frame(client: &mut Client) -> (FrameHeader, VideoFrame) {
    loop {
        if let Message::Binary(bytes) = next_message(client).await {
            let header = FrameHeader::read(&bytes).expect("a header");
            let picture = VideoFrame::from_i420(
                u32::from(header.width),
                u32::from(header.height),
                Duration::from_millis(u64::from(header.timestamp_ms)),
                bytes[HEADER_LEN..].to_vec(),
            )
            .expect("the pixels match the header's size");
            return (header, picture);
        }
    }
}

fn pattern_frame(pattern: &TestPattern, n: u32) -> Arc<VideoFrame> {
    let (w, h) = pattern.size();
    let mut frame = VideoFrame::black(w, h, Duration::ZERO).unwrap();
    pattern.render(n, &mut frame);
    Arc::new(frame)
}

#[tokio::test]
async fn a_subscribed_tile_gets_the_picture_scaled_to_fit_with_its_stamp_readable() {
    let hub = FrameHub::new();
    let server = FrameServer::start(Arc::clone(&hub)).await.unwrap();
    assert!(server.addr().ip().is_loopback());
    let pattern = TestPattern::new(1280, 720, 30).unwrap();
    hub.publish("self", pattern_frame(&pattern, 41));

    let mut page = connect(&server).await;
    subscribe(&mut page, 3, "self", (640, 400)).await;
    let (header, picture) = next_frame(&mut page).await;
    assert_eq!((header.tile, header.width, header.height), (3, 640, 360));
    assert_eq!(header.sequence, 0);
    let stamp = read_stamp(&picture).expect("the scaled stamp reads back");
    assert_eq!(stamp.frame_number, 41);

    hub.publish("self", pattern_frame(&pattern, 42));
    let (header, picture) = next_frame(&mut page).await;
    assert_eq!(header.sequence, 1);
    assert_eq!(read_stamp(&picture).unwrap().frame_number, 42);
}

#[tokio::test]
async fn a_handshake_without_the_launch_token_is_refused() {
    let server = FrameServer::start(FrameHub::new()).await.unwrap();
    let port = server.socket().port;
    for url in [
        format!("ws://127.0.0.1:{port}/"),
        format!("ws://127.0.0.1:{port}/?token=guess"),
        format!("ws://127.0.0.1:{port}/?token={}x", server.socket().token),
    ] {
        let err = connect_async(&url).await.expect_err("refused");
        assert!(err.to_string().contains("403"), "{url}: {err}");
    }
}

#[tokio::test]
async fn a_page_that_has_not_drawn_its_frame_gets_nothing_more_then_only_the_newest() {
    let hub = FrameHub::new();
    let server = FrameServer::start(Arc::clone(&hub)).await.unwrap();
    let pattern = TestPattern::new(320, 180, 30).unwrap();
    let mut page = connect(&server).await;
    subscribe(&mut page, 1, "self", (320, 180)).await;
    hub.publish("self", pattern_frame(&pattern, 0));
    let (first, _) = next_unacked_frame(&mut page).await;
    assert_eq!(first.sequence, 0);

    // The page is busy drawing: 60 frames are published before it acks.
    const PUBLISHED: u32 = 60;
    for n in 1..=PUBLISHED {
        hub.publish("self", pattern_frame(&pattern, n));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let early = tokio::time::timeout(Duration::from_millis(300), page.next()).await;
    assert!(early.is_err(), "nothing is sent before the ack: {early:?}");
    ack(&mut page, 1).await;
    let (header, picture) = next_frame(&mut page).await;
    assert_eq!(header.sequence, PUBLISHED, "the next frame is the newest");
    assert_eq!(read_stamp(&picture).unwrap().frame_number, PUBLISHED);
}

#[tokio::test]
async fn a_lost_ack_delays_a_tile_but_does_not_freeze_it() {
    let hub = FrameHub::new();
    let server = FrameServer::start(Arc::clone(&hub)).await.unwrap();
    let pattern = TestPattern::new(64, 36, 30).unwrap();
    let mut page = connect(&server).await;
    subscribe(&mut page, 2, "self", (64, 36)).await;
    hub.publish("self", pattern_frame(&pattern, 0));
    next_unacked_frame(&mut page).await;
    hub.publish("self", pattern_frame(&pattern, 1));
    let started = std::time::Instant::now();
    let (header, _) = next_unacked_frame(&mut page).await;
    assert_eq!(header.sequence, 1);
    assert!(started.elapsed() >= wire::ACK_TIMEOUT - Duration::from_millis(100));
}

#[tokio::test]
async fn bad_requests_are_answered_with_a_reason_and_the_connection_stays_usable() {
    let hub = FrameHub::new();
    let server = FrameServer::start(Arc::clone(&hub)).await.unwrap();
    let mut page = connect(&server).await;
    subscribe(&mut page, 1, "self", (0, 100)).await;
    let Message::Text(text) = next_message(&mut page).await else {
        panic!("a text notice");
    };
    assert!(text.contains("\"type\":\"error\""), "{text}");
    assert!(text.contains("tile size 0x100"), "{text}");

    subscribe(&mut page, 1, "cam", (64, 36)).await;
    let pattern = TestPattern::new(128, 72, 30).unwrap();
    hub.publish("cam", pattern_frame(&pattern, 5));
    let (header, _) = next_frame(&mut page).await;
    assert_eq!((header.width, header.height), (64, 36));
}

#[tokio::test]
async fn resubscribing_a_tile_replaces_its_stream_and_unsubscribing_stops_it() {
    let hub = FrameHub::new();
    let server = FrameServer::start(Arc::clone(&hub)).await.unwrap();
    let small = TestPattern::new(64, 36, 30).unwrap();
    let mut page = connect(&server).await;
    subscribe(&mut page, 9, "a", (64, 36)).await;
    hub.publish("a", pattern_frame(&small, 1));
    assert_eq!(
        read_stamp(&next_frame(&mut page).await.1)
            .unwrap()
            .frame_number,
        1
    );

    subscribe(&mut page, 9, "b", (64, 36)).await;
    hub.publish("b", pattern_frame(&small, 2));
    let (header, picture) = next_frame(&mut page).await;
    assert_eq!(header.tile, 9);
    assert_eq!(read_stamp(&picture).unwrap().frame_number, 2);

    page.send(Message::text(r#"{"type":"unsubscribe","tile":9}"#))
        .await
        .unwrap();
    // Let the unsubscribe land before publishing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    hub.publish("b", pattern_frame(&small, 3));
    hub.publish("a", pattern_frame(&small, 4));
    let quiet = tokio::time::timeout(Duration::from_millis(300), page.next()).await;
    assert!(quiet.is_err(), "no frames after unsubscribing: {quiet:?}");
}

#[test]
fn tokens_are_long_random_and_differ_per_launch() {
    let (a, b) = (random_token().unwrap(), random_token().unwrap());
    assert_eq!(a.len(), 48);
    assert_ne!(a, b);
}
