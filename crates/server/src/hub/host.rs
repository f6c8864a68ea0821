//! Host controls: admitting from the lobby, refusing, removing, asking to
//! mute, locking, ending the meeting.

use confab_proto::signal::{ClientMessage, ErrorCode, ServerMessage};

use super::{ConnId, Hub, Now, Outbox, newcomer};

impl Hub {
    pub(super) fn host_control(
        &mut self,
        conn: ConnId,
        code: &str,
        by: &str,
        msg: ClientMessage,
        now: Now,
        out: &mut Outbox,
    ) {
        let live = self
            .meetings
            .get_mut(code)
            .expect("seated meetings are live");
        let unknown = |out: &mut Outbox| {
            out.error(
                conn,
                ErrorCode::UnknownParticipant,
                "That participant is no longer here.",
            )
        };
        match msg {
            ClientMessage::Admit { participant } => {
                let Some(waiting) = live.lobby.remove(&participant) else {
                    return unknown(out);
                };
                let info = newcomer(
                    participant,
                    &waiting.entry.name,
                    waiting.entry.kind,
                    false,
                    now,
                );
                if self.admit(waiting.conn, code, info, waiting.address, now, out) {
                    let live = &self.meetings[code];
                    live.tell_hosts_about_lobby(out);
                } else {
                    // Full: the person keeps waiting, and the host is told why.
                    let error = out.messages.pop().expect("admit sent an error");
                    out.send(conn, error.1);
                    let live = self.meetings.get_mut(code).expect("meeting still live");
                    live.lobby.insert(participant, waiting);
                }
            }
            ClientMessage::Deny { participant } => {
                let Some(waiting) = live.lobby.remove(&participant) else {
                    return unknown(out);
                };
                out.error(
                    waiting.conn,
                    ErrorCode::Denied,
                    "The host did not let you into this meeting.",
                );
                out.close(waiting.conn);
                if let Some(c) = self.conns.get_mut(&waiting.conn) {
                    c.place = None;
                }
                live.tell_hosts_about_lobby(out);
            }
            ClientMessage::Remove { participant } => {
                if !live.members.contains_key(&participant) {
                    return unknown(out);
                }
                let removed = self.remove_participant(code, participant, by);
                out.absorb(removed);
            }
            ClientMessage::AskMute { participant } => match live.members.get(&participant) {
                Some(m) => {
                    if let Some(target) = m.conn {
                        out.send(target, ServerMessage::MuteRequested { by: by.to_string() });
                    }
                }
                None => unknown(out),
            },
            ClientMessage::SetLocked { locked } => {
                live.info.locked = locked;
                live.broadcast(out, &ServerMessage::MeetingLocked { locked }, None);
            }
            ClientMessage::EndMeeting => {
                let ended = self.end_meeting(code, by);
                out.absorb(ended);
            }
            _ => out.error(
                conn,
                ErrorCode::OutOfOrder,
                "That message is not allowed inside a meeting.",
            ),
        }
    }
}
