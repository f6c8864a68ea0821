//! Everything besides media that a UI shows: lobby, admission, chat,
//! hands, media state, host controls and the meeting's end, each arriving
//! as a typed event.

mod support;

use confab_client::{ErrorCode, JoinOptions, LeaveReason, MediaOptions, Meeting, MeetingEvent};
use confab_server::meetings::{Meetings, NewMeeting};
use support::{Peer, Server};

#[tokio::test]
async fn lobby_chat_hands_mute_lock_remove_and_end_reach_everyone_as_events() {
    let server = Server::start(None).await;
    let m = Meetings::new(server.storage.clone())
        .create(
            NewMeeting {
                lobby: true,
                ..NewMeeting::titled("Controls")
            },
            "test",
        )
        .await
        .unwrap();
    let code = m.code.as_str().to_owned();
    let mut host_options = JoinOptions::new(server.base(), &code, "Host");
    host_options.host_key = Some(m.host_key.clone());
    let (host_meeting, host_events) = Meeting::join(host_options, MediaOptions::default())
        .await
        .unwrap();
    let mut host = Peer {
        meeting: host_meeting,
        events: host_events,
        recorder: Default::default(),
        name: "Host".into(),
    };

    // A guest waits in the lobby until the host admits them.
    let (guest_meeting, guest_events) = Meeting::join(
        JoinOptions::new(server.base(), &code, "Guest"),
        MediaOptions::default(),
    )
    .await
    .unwrap();
    let mut guest = Peer {
        meeting: guest_meeting,
        events: guest_events,
        recorder: Default::default(),
        name: "Guest".into(),
    };
    guest
        .expect("the lobby", |e| matches!(e, MeetingEvent::InLobby { .. }))
        .await;
    assert_eq!(guest.meeting.id(), None, "no seat in the lobby");
    let waiting = host
        .expect(
            "the lobby change",
            |e| matches!(e, MeetingEvent::LobbyChanged(l) if !l.is_empty()),
        )
        .await;
    let MeetingEvent::LobbyChanged(lobby) = waiting else {
        unreachable!()
    };
    host.meeting.admit(lobby[0].id).unwrap();
    guest
        .expect("admission", |e| matches!(e, MeetingEvent::Joined { .. }))
        .await;
    let g = lobby[0].id;

    guest.meeting.chat("hello all").unwrap();
    host.expect(
        "chat",
        |e| matches!(e, MeetingEvent::Chat(c) if c.text == "hello all" && c.from == g),
    )
    .await;
    guest.meeting.raise_hand(true).unwrap();
    host.expect(
        "the hand",
        |e| matches!(e, MeetingEvent::ParticipantUpdated(p) if p.id == g && p.hand_raised),
    )
    .await;
    guest.meeting.set_muted(true, false).unwrap();
    host.expect("the mute", |e| {
        matches!(e, MeetingEvent::ParticipantUpdated(p) if p.id == g && p.audio_muted && !p.video_muted)
    })
    .await;
    host.meeting.ask_mute(g).unwrap();
    guest
        .expect("the mute request", |e| {
            matches!(e, MeetingEvent::MuteRequested { .. })
        })
        .await;

    // A guest is not a host: the server's refusal arrives as an event.
    guest.meeting.set_locked(true).unwrap();
    guest
        .expect("not host", |e| {
            matches!(
                e,
                MeetingEvent::Error {
                    code: ErrorCode::NotHost,
                    ..
                }
            )
        })
        .await;
    host.meeting.set_locked(true).unwrap();
    guest
        .expect("the lock", |e| *e == MeetingEvent::MeetingLocked(true))
        .await;
    let locked_out = Meeting::join(
        JoinOptions::new(server.base(), &code, "Late"),
        MediaOptions::default(),
    )
    .await;
    assert_eq!(
        locked_out.err().and_then(|e| e.code()),
        Some(ErrorCode::MeetingLocked)
    );
    host.meeting.set_locked(false).unwrap();

    host.meeting.remove(g).unwrap();
    guest
        .expect("removal", |e| matches!(e, MeetingEvent::Removed { .. }))
        .await;
    host.expect("the guest leaving", |e| {
        *e == MeetingEvent::ParticipantLeft {
            participant: g,
            reason: LeaveReason::Removed,
        }
    })
    .await;

    let third = Peer::join(&server, &code, "Third", false).await;
    let mut third = third;
    // Unlocked again, but the lobby still applies to guests.
    third
        .expect("the lobby", |e| matches!(e, MeetingEvent::InLobby { .. }))
        .await;
    host.meeting.end_meeting().unwrap();
    host.expect("the end", |e| {
        matches!(e, MeetingEvent::MeetingEnded { .. })
    })
    .await;
}
