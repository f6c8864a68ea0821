use confab_proto::signal::{ClientKind, ErrorCode, LeaveReason};

use super::*;

fn person(id: ParticipantId, name: &str) -> Participant {
    Participant {
        id,
        name: name.into(),
        kind: ClientKind::App,
        host: false,
        hand_raised: false,
        audio_muted: false,
        video_muted: false,
        connected: true,
        joined_at_ms: 0,
    }
}

fn joined(id: ParticipantId) -> ServerMessage {
    ServerMessage::Joined {
        you: person(id, "Me"),
        meeting: MeetingBrief {
            code: "abc-defg-hij".into(),
            title: "T".into(),
            locked: false,
        },
        participants: vec![person(id, "Me"), person(9, "Other")],
        chat: vec![],
        resume_token: "token-1".into(),
        lobby: vec![],
    }
}

fn feed(s: &mut Session, msg: ServerMessage, now: Instant) -> (Vec<Output>, Vec<ClientMessage>) {
    let (mut out, mut send) = (Vec::new(), Vec::new());
    s.handle(msg, now, &mut out, &mut send);
    (out, send)
}

#[test]
fn joining_asks_for_an_offer_and_heartbeats_at_the_servers_interval() {
    let t0 = Instant::now();
    let mut s = Session::new();
    feed(
        &mut s,
        ServerMessage::Welcome {
            version: 1,
            server: "x".into(),
            heartbeat_interval_ms: 1000,
        },
        t0,
    );
    let (out, _) = feed(&mut s, joined(4), t0);
    assert_eq!(out[0], Output::Offer);
    assert_eq!(s.phase(), Phase::Joined);
    assert_eq!(s.me(), Some(4));
    assert_eq!(s.participants().len(), 2);
    assert_eq!(s.resume_token(), Some("token-1"));
    assert_eq!(s.poll(t0 + Duration::from_millis(999)), None);
    assert_eq!(
        s.poll(t0 + Duration::from_millis(1000)),
        Some(ClientMessage::Heartbeat)
    );
    assert_eq!(s.next_timeout(), Some(t0 + Duration::from_millis(2000)));
}

#[test]
fn slots_map_mids_to_participants_and_a_freed_or_reused_slot_forgets_its_owner() {
    let t0 = Instant::now();
    let mut s = Session::new();
    feed(&mut s, joined(4), t0);
    feed(
        &mut s,
        ServerMessage::MediaSlots {
            participant: 9,
            audio_mid: Some("2".into()),
            video_mid: Some("3".into()),
        },
        t0,
    );
    assert_eq!(s.slot("2"), Some((9, SlotKind::Audio)));
    assert_eq!(s.slot("3"), Some((9, SlotKind::Video)));
    let (out, _) = feed(&mut s, ServerMessage::MediaSlotFreed { participant: 9 }, t0);
    assert!(out.contains(&Output::SlotsFreed(9)));
    assert_eq!(s.slot("2"), None);
    feed(
        &mut s,
        ServerMessage::MediaSlots {
            participant: 11,
            audio_mid: Some("2".into()),
            video_mid: None,
        },
        t0,
    );
    assert_eq!(s.slot("2"), Some((11, SlotKind::Audio)));
    assert_eq!(s.slot("3"), None);
}

#[test]
fn views_wait_for_the_answer_and_are_sent_again_after_each_answer() {
    let t0 = Instant::now();
    let mut s = Session::new();
    feed(&mut s, joined(4), t0);
    assert_eq!(s.set_view(9, 320, 180), None, "no answer yet");
    let (out, send) = feed(&mut s, ServerMessage::Answer { sdp: "v=0".into() }, t0);
    assert_eq!(out, vec![Output::Answer("v=0".into())]);
    assert_eq!(
        send,
        vec![ClientMessage::View {
            participant: 9,
            width: 320,
            height: 180
        }]
    );
    assert!(
        s.set_view(9, 0, 0).is_some(),
        "sent at once after an answer"
    );
    s.reconnecting();
    assert_eq!(s.set_view(9, 640, 360), None);
}

#[test]
fn send_layers_map_rids_to_encoder_layers_lowest_first() {
    let mut s = Session::new();
    let (out, _) = feed(
        &mut s,
        ServerMessage::SendLayers {
            rids: vec!["l".into(), "h".into(), "zz".into()],
        },
        Instant::now(),
    );
    let mut wanted = [false; 3];
    wanted[Layer::Quarter as usize] = true;
    wanted[Layer::Full as usize] = true;
    assert_eq!(out, vec![Output::Layers(wanted)]);
    for layer in Layer::ALL {
        assert_eq!(layer_for_rid(rid_for_layer(layer)), Some(layer));
    }
}

#[test]
fn ending_removal_and_denial_end_the_session_and_its_heartbeats() {
    let t0 = Instant::now();
    for msg in [
        ServerMessage::MeetingEnded { by: "Host".into() },
        ServerMessage::Removed { by: "Host".into() },
        ServerMessage::Error {
            code: ErrorCode::Denied,
            message: "A host refused.".into(),
        },
    ] {
        let mut s = Session::new();
        feed(&mut s, joined(4), t0);
        feed(&mut s, msg, t0);
        assert_eq!(s.phase(), Phase::Over);
        assert_eq!(s.next_timeout(), None);
    }
    let mut s = Session::new();
    feed(&mut s, joined(4), t0);
    let (out, _) = feed(
        &mut s,
        ServerMessage::ParticipantLeft {
            participant: 9,
            reason: LeaveReason::TimedOut,
        },
        t0,
    );
    assert_eq!(s.participants().len(), 1);
    assert!(matches!(
        out[0],
        Output::Event(MeetingEvent::ParticipantLeft {
            participant: 9,
            reason: LeaveReason::TimedOut
        })
    ));
}
