//! The hub on virtual time: licence rules, lobby, host controls, resume.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;

const TIMEOUT: Duration = Duration::from_secs(15);

struct World {
    hub: Hub,
    t0: Instant,
    next_conn: ConnId,
}

impl World {
    fn new(limit: u32) -> Self {
        Self {
            hub: Hub::new(limit, TIMEOUT),
            t0: Instant::now(),
            next_conn: 1,
        }
    }

    fn at(&self, secs: f64) -> Now {
        Now {
            mono: self.t0 + Duration::from_secs_f64(secs),
            unix_ms: 1_800_000_000_000 + (secs * 1000.0) as u64,
        }
    }

    fn connect(&mut self) -> ConnId {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.hub
            .connected(conn, IpAddr::V4(Ipv4Addr::new(127, 0, 0, conn as u8)));
        conn
    }

    fn join_as(
        &mut self,
        record: &MeetingRecord,
        name: &str,
        host_key: Option<&str>,
    ) -> (ConnId, Outbox) {
        let conn = self.connect();
        let req = JoinRequest {
            name: name.into(),
            kind: ClientKind::App,
            passcode: None,
            host_key: host_key.map(str::to_string),
        };
        let out = self.hub.join(conn, req, record, self.at(0.0));
        (conn, out)
    }

    fn join(&mut self, record: &MeetingRecord, name: &str) -> (ConnId, Outbox) {
        self.join_as(record, name, None)
    }
}

fn meeting(code: &str) -> MeetingRecord {
    MeetingRecord {
        code: code.into(),
        title: format!("Meeting {code}"),
        passcode: None,
        lobby: false,
        host_key: format!("host-key-of-{code}"),
    }
}

fn joined_token(out: &Outbox, conn: ConnId) -> String {
    out.messages
        .iter()
        .find_map(|(c, m)| match m {
            ServerMessage::Joined { resume_token, .. } if *c == conn => Some(resume_token.clone()),
            _ => None,
        })
        .expect("a joined message")
}

fn error_for(out: &Outbox, conn: ConnId) -> Option<(ErrorCode, String)> {
    out.messages.iter().find_map(|(c, m)| match m {
        ServerMessage::Error { code, message } if *c == conn => Some((*code, message.clone())),
        _ => None,
    })
}

fn participant_of(out: &Outbox, conn: ConnId) -> ParticipantId {
    out.messages
        .iter()
        .find_map(|(c, m)| match m {
            ServerMessage::Joined { you, .. } if *c == conn => Some(you.id),
            ServerMessage::Lobby { you, .. } if *c == conn => Some(you.id),
            _ => None,
        })
        .expect("joined or lobby")
}

#[test]
fn one_meeting_of_ten_fills_a_ten_line_licence_and_the_eleventh_is_refused() {
    let mut w = World::new(10);
    let m = meeting("aaa-bbbb-ccc");
    for i in 0..10 {
        let (conn, out) = w.join(&m, &format!("P{i}"));
        joined_token(&out, conn);
    }
    assert_eq!(w.hub.lines_in_use(), 10);
    let (conn, out) = w.join(&m, "Eleventh");
    let (code, message) = error_for(&out, conn).expect("refused");
    assert_eq!(code, ErrorCode::ServerFull);
    assert_eq!(
        message,
        "All 10 lines are in use. Try again when someone leaves."
    );
    assert_eq!(w.hub.lines_in_use(), 10);
    assert_eq!(w.hub.refused_joins(), 1);
    assert!(!w.hub.is_placed(conn));
}

#[test]
fn five_meetings_of_two_fill_ten_lines() {
    let mut w = World::new(10);
    for k in 0..5 {
        let m = meeting(&format!("mt{k}-aaaa-bbb"));
        w.join(&m, "A");
        w.join(&m, "B");
    }
    let snap = w.hub.snapshot();
    assert_eq!(snap.in_use, 10);
    assert_eq!(snap.meetings.len(), 5);
    assert!(snap.meetings.iter().all(|m| m.lines == 2));
    let (conn, out) = w.join(&meeting("new-mtng-abc"), "Late");
    assert_eq!(error_for(&out, conn).unwrap().0, ErrorCode::ServerFull);
    assert_eq!(
        w.hub.live_meetings(),
        5,
        "a refused join leaves no empty meeting behind"
    );
}

#[test]
fn waiting_in_the_lobby_takes_no_line_and_admission_takes_one() {
    let mut w = World::new(2);
    let mut m = meeting("lob-byyy-abc");
    m.lobby = true;
    let (host, _) = w.join_as(&m, "Host", Some("host-key-of-lob-byyy-abc"));
    assert_eq!(w.hub.lines_in_use(), 1, "the host skips the lobby");
    let (guest, out) = w.join(&m, "Guest");
    let guest_id = participant_of(&out, guest);
    assert!(matches!(out.messages[0].1, ServerMessage::Lobby { .. }));
    assert!(
        out.messages.iter().any(|(c, m)| *c == host
            && matches!(m, ServerMessage::LobbyChanged { lobby } if lobby.len() == 1)),
        "the host hears about the waiting guest"
    );
    assert_eq!(w.hub.lines_in_use(), 1, "the lobby holds no line");

    let out = w.hub.handle(
        host,
        ClientMessage::Admit {
            participant: guest_id,
        },
        w.at(1.0),
    );
    joined_token(&out, guest);
    assert_eq!(w.hub.lines_in_use(), 2);
}

#[test]
fn admitting_from_the_lobby_at_the_limit_keeps_the_person_waiting_and_tells_the_host() {
    let mut w = World::new(1);
    let mut m = meeting("ful-lobb-abc");
    m.lobby = true;
    let (host, _) = w.join_as(&m, "Host", Some("host-key-of-ful-lobb-abc"));
    let (guest, out) = w.join(&m, "Guest");
    let guest_id = participant_of(&out, guest);
    let out = w.hub.handle(
        host,
        ClientMessage::Admit {
            participant: guest_id,
        },
        w.at(1.0),
    );
    assert_eq!(error_for(&out, host).unwrap().0, ErrorCode::ServerFull);
    assert!(
        error_for(&out, guest).is_none(),
        "the guest is not told off"
    );
    assert_eq!(w.hub.snapshot().meetings[0].lobby, 1, "still waiting");
    assert_eq!(w.hub.lines_in_use(), 1);
}

#[test]
fn wrong_passcode_is_refused_and_the_host_key_stands_in_for_it() {
    let mut w = World::new(5);
    let mut m = meeting("pas-code-abc");
    m.passcode = Some("4321".into());
    let conn = w.connect();
    let wrong = JoinRequest {
        name: "X".into(),
        kind: ClientKind::Browser,
        passcode: Some("1111".into()),
        host_key: None,
    };
    let out = w.hub.join(conn, wrong, &m, w.at(0.0));
    assert_eq!(out.first_error(), Some(ErrorCode::WrongPasscode));
    assert_eq!(w.hub.lines_in_use(), 0);
    let right = JoinRequest {
        name: "X".into(),
        kind: ClientKind::Browser,
        passcode: Some("4321".into()),
        host_key: None,
    };
    let out = w.hub.join(conn, right, &m, w.at(0.0));
    joined_token(&out, conn);
    let (host, out) = w.join_as(&m, "Host", Some("host-key-of-pas-code-abc"));
    joined_token(&out, host);
}

#[test]
fn a_locked_meeting_refuses_newcomers_but_not_its_host() {
    let mut w = World::new(5);
    let m = meeting("loc-kedm-abc");
    let (host, _) = w.join_as(&m, "Host", Some("host-key-of-loc-kedm-abc"));
    w.hub
        .handle(host, ClientMessage::SetLocked { locked: true }, w.at(1.0));
    let (conn, out) = w.join(&m, "Late");
    assert_eq!(error_for(&out, conn).unwrap().0, ErrorCode::MeetingLocked);
    let (host2, out) = w.join_as(&m, "Cohost", Some("host-key-of-loc-kedm-abc"));
    joined_token(&out, host2);
}

#[test]
fn chat_reaches_everyone_and_late_joiners_get_the_history() {
    let mut w = World::new(5);
    let m = meeting("cha-tttt-abc");
    let (a, _) = w.join(&m, "Ana");
    let (b, _) = w.join(&m, "Ben");
    let out = w.hub.handle(
        a,
        ClientMessage::Chat {
            text: " hello ".into(),
        },
        w.at(2.0),
    );
    let receivers: Vec<ConnId> = out.messages.iter().map(|(c, _)| *c).collect();
    assert!(receivers.contains(&a) && receivers.contains(&b));
    let (c, out) = w.join(&m, "Cyd");
    let history = out
        .messages
        .iter()
        .find_map(|(conn, msg)| match msg {
            ServerMessage::Joined { chat, .. } if *conn == c => Some(chat.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].text, "hello");
    assert_eq!(history[0].name, "Ana");
}

#[test]
fn messages_before_join_are_out_of_order() {
    let mut w = World::new(5);
    let conn = w.connect();
    let out = w
        .hub
        .handle(conn, ClientMessage::Chat { text: "hi".into() }, w.at(0.0));
    assert_eq!(out.first_error(), Some(ErrorCode::OutOfOrder));
    let out = w.hub.handle(conn, ClientMessage::Heartbeat, w.at(0.0));
    assert!(matches!(out.messages[0].1, ServerMessage::HeartbeatAck));
}

#[test]
fn a_dropped_connection_keeps_its_line_until_the_timeout_then_everyone_sees_it_leave() {
    let mut w = World::new(5);
    let m = meeting("dro-pped-abc");
    let (a, _) = w.join(&m, "Ana");
    let (b, out) = w.join(&m, "Ben");
    let ben = participant_of(&out, b);
    w.hub.disconnected(b, w.at(1.0));
    assert_eq!(w.hub.lines_in_use(), 2, "held for a resume");
    w.hub.handle(a, ClientMessage::Heartbeat, w.at(10.0));
    assert!(w.hub.tick(w.at(15.9)).messages.is_empty());
    assert_eq!(w.hub.lines_in_use(), 2);
    let out = w.hub.tick(w.at(16.0));
    assert_eq!(w.hub.lines_in_use(), 1);
    assert!(out.messages.iter().any(|(c, m)| *c == a
        && matches!(m, ServerMessage::ParticipantLeft { participant, reason: LeaveReason::TimedOut } if *participant == ben)));
}

#[test]
fn a_silent_connection_loses_its_line_after_the_heartbeat_timeout_and_is_closed() {
    let mut w = World::new(5);
    let m = meeting("sil-entt-abc");
    let (a, _) = w.join(&m, "Ana");
    let (b, _) = w.join(&m, "Ben");
    for t in [5.0, 10.0, 15.0, 20.0] {
        w.hub.handle(a, ClientMessage::Heartbeat, w.at(t));
    }
    let out = w.hub.tick(w.at(21.0));
    assert!(out.close.contains(&b), "the silent socket is closed");
    assert!(!out.close.contains(&a));
    assert_eq!(w.hub.lines_in_use(), 1);
}

#[test]
fn resuming_within_the_timeout_keeps_one_line_and_the_same_participant() {
    let mut w = World::new(5);
    let m = meeting("res-umee-abc");
    w.join(&m, "Ana");
    let (b, out) = w.join(&m, "Ben");
    let ben = participant_of(&out, b);
    let token = joined_token(&out, b);
    w.hub.disconnected(b, w.at(1.0));
    let b2 = w.connect();
    let out = w.hub.resume(b2, &token, w.at(5.0));
    assert_eq!(participant_of(&out, b2), ben);
    assert_eq!(w.hub.lines_in_use(), 2, "no second line");
    // The spent token does not work twice.
    let b3 = w.connect();
    let out = w.hub.resume(b3, &token, w.at(6.0));
    assert_eq!(out.first_error(), Some(ErrorCode::ResumeFailed));
    assert_eq!(w.hub.lines_in_use(), 2);
}

#[test]
fn resuming_after_the_timeout_fails_and_the_line_is_free() {
    let mut w = World::new(5);
    let m = meeting("lat-eres-abc");
    let (b, out) = w.join(&m, "Ben");
    let token = joined_token(&out, b);
    w.hub.disconnected(b, w.at(1.0));
    w.hub.tick(w.at(17.0));
    let b2 = w.connect();
    let out = w.hub.resume(b2, &token, w.at(17.0));
    assert_eq!(out.first_error(), Some(ErrorCode::ResumeFailed));
    assert_eq!(w.hub.lines_in_use(), 0);
}

#[test]
fn a_smaller_licence_mid_meeting_drops_nobody_and_refuses_newcomers() {
    let mut w = World::new(10);
    let m = meeting("sma-ller-abc");
    let conns: Vec<ConnId> = (0..6).map(|i| w.join(&m, &format!("P{i}")).0).collect();
    w.hub.set_line_limit(3);
    assert_eq!(w.hub.lines_in_use(), 6, "nobody dropped");
    for &c in &conns {
        assert!(w.hub.is_placed(c));
    }
    let (late, out) = w.join(&m, "Late");
    assert_eq!(
        error_for(&out, late).unwrap().1,
        "All 3 lines are in use. Try again when someone leaves."
    );
    for &c in &conns[..3] {
        w.hub.handle(c, ClientMessage::Leave, w.at(1.0));
    }
    assert_eq!(w.hub.lines_in_use(), 3);
    let (late2, out) = w.join(&m, "Late2");
    assert_eq!(
        error_for(&out, late2).unwrap().0,
        ErrorCode::ServerFull,
        "still at the new limit"
    );
    w.hub.handle(conns[3], ClientMessage::Leave, w.at(2.0));
    let (late3, out) = w.join(&m, "Late3");
    joined_token(&out, late3);
}

#[test]
fn ending_a_meeting_frees_every_line_and_closes_everyone_including_the_lobby() {
    let mut w = World::new(10);
    let mut m = meeting("end-meet-abc");
    m.lobby = true;
    let (host, _) = w.join_as(&m, "Host", Some("host-key-of-end-meet-abc"));
    let (guest, _) = w.join(&m, "Waiting");
    let out = w.hub.handle(host, ClientMessage::EndMeeting, w.at(3.0));
    assert!(out.close.contains(&host) && out.close.contains(&guest));
    assert_eq!(w.hub.lines_in_use(), 0);
    assert_eq!(w.hub.live_meetings(), 0);
}

#[test]
fn a_host_removal_frees_the_line_and_tells_the_removed_person() {
    let mut w = World::new(10);
    let m = meeting("rem-oved-abc");
    let (host, _) = w.join_as(&m, "Host", Some("host-key-of-rem-oved-abc"));
    let (guest, out) = w.join(&m, "Guest");
    let gid = participant_of(&out, guest);
    let out = w
        .hub
        .handle(host, ClientMessage::Remove { participant: gid }, w.at(1.0));
    assert!(
        out.messages
            .iter()
            .any(|(c, m)| *c == guest && matches!(m, ServerMessage::Removed { .. }))
    );
    assert!(out.messages.iter().any(|(c, m)| *c == host
        && matches!(
            m,
            ServerMessage::ParticipantLeft {
                reason: LeaveReason::Removed,
                ..
            }
        )));
    assert!(out.close.contains(&guest));
    assert_eq!(w.hub.lines_in_use(), 1);
}

#[test]
fn host_controls_from_a_non_host_are_refused() {
    let mut w = World::new(10);
    let m = meeting("not-host-abc");
    let (a, _) = w.join(&m, "Ana");
    let out = w.hub.handle(a, ClientMessage::EndMeeting, w.at(1.0));
    assert_eq!(out.first_error(), Some(ErrorCode::NotHost));
    assert_eq!(w.hub.lines_in_use(), 1);
}

#[test]
fn leaving_frees_the_line_at_once() {
    let mut w = World::new(1);
    let m = meeting("lea-ving-abc");
    let (a, _) = w.join(&m, "Ana");
    let out = w.hub.handle(a, ClientMessage::Leave, w.at(1.0));
    assert!(matches!(
        out.messages.last().unwrap().1,
        ServerMessage::Left
    ));
    assert_eq!(w.hub.lines_in_use(), 0);
    let (b, out) = w.join(&m, "Ben");
    joined_token(&out, b);
}

#[test]
fn usage_samples_report_the_peak_between_samples_and_new_refusals() {
    let mut w = World::new(3);
    let m = meeting("usa-gess-abc");
    let conns: Vec<ConnId> = (0..3).map(|i| w.join(&m, &format!("P{i}")).0).collect();
    w.join(&m, "Refused");
    for &c in &conns[..2] {
        w.hub.handle(c, ClientMessage::Leave, w.at(1.0));
    }
    assert_eq!(w.hub.take_usage_sample(), (3, 1));
    assert_eq!(
        w.hub.take_usage_sample(),
        (1, 0),
        "the next minute starts from what is in use"
    );
}

#[test]
fn every_way_a_seat_is_given_back_lists_the_participant_as_left() {
    let mut w = World::new(10);
    let m = meeting("lft-aaaa-bbb");
    let (host, out) = w.join_as(&m, "Host", Some("host-key-of-lft-aaaa-bbb"));
    let host_id = participant_of(&out, host);
    let (leaver, out) = w.join(&m, "Leaver");
    let leaver_id = participant_of(&out, leaver);
    let (removed, out) = w.join(&m, "Removed");
    let removed_id = participant_of(&out, removed);
    let (silent, out) = w.join(&m, "Silent");
    let silent_id = participant_of(&out, silent);
    let (stayer, out) = w.join(&m, "Stayer");
    let stayer_id = participant_of(&out, stayer);
    assert!(out.left.is_empty(), "joining frees nothing");

    let out = w.hub.handle(leaver, ClientMessage::Leave, w.at(1.0));
    assert_eq!(out.left, vec![leaver_id]);
    let remove = ClientMessage::Remove {
        participant: removed_id,
    };
    let out = w.hub.handle(host, remove, w.at(2.0));
    assert_eq!(out.left, vec![removed_id]);
    for conn in [host, stayer] {
        w.hub.handle(conn, ClientMessage::Heartbeat, w.at(14.0));
    }
    assert!(w.hub.tick(w.at(14.0)).left.is_empty());
    let out = w.hub.tick(w.at(16.0));
    assert_eq!(out.left, vec![silent_id], "heartbeat timeout");

    let out = w.hub.handle(host, ClientMessage::EndMeeting, w.at(17.0));
    let mut left = out.left.clone();
    left.sort_unstable();
    assert_eq!(left, vec![host_id, stayer_id]);
    assert_eq!(w.hub.lines_in_use(), 0);
}

#[test]
fn a_failed_media_connection_frees_the_seat_like_a_timeout() {
    let mut w = World::new(10);
    let m = meeting("med-aaaa-bbb");
    let (a, out) = w.join(&m, "A");
    let a_id = participant_of(&out, a);
    let (b, out) = w.join(&m, "B");
    let b_id = participant_of(&out, b);
    let room = w.hub.seated(a).map(|(_, room)| room);
    assert_eq!(w.hub.seated(a), Some((a_id, room.unwrap())));
    assert_eq!(w.hub.seated(b).map(|s| s.1), room, "one room per meeting");

    let out = w.hub.media_failed(b_id);
    assert_eq!(out.left, vec![b_id]);
    assert!(out.messages.contains(&(
        a,
        ServerMessage::ParticipantLeft {
            participant: b_id,
            reason: LeaveReason::TimedOut
        }
    )));
    assert!(out.close.contains(&b));
    assert_eq!(w.hub.lines_in_use(), 1);
    assert_eq!(w.hub.seated(b), None);
    assert!(w.hub.media_failed(b_id).is_empty(), "only once");

    let other = meeting("oth-aaaa-bbb");
    let (c, _) = w.join(&other, "C");
    assert_ne!(
        w.hub.seated(c).map(|s| s.1),
        room,
        "meetings get their own rooms"
    );
}
