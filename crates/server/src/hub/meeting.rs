//! One live meeting: who is in it, who waits in its lobby, its chat.

use std::collections::BTreeMap;
use std::net::IpAddr;

use confab_license::SeatId;
use confab_proto::signal::{
    ChatMessage, LobbyEntry, MeetingBrief, Participant, ParticipantId, ServerMessage,
};

use super::{ConnId, Outbox};

/// An admitted participant. `conn` is `None` while the connection is away
/// and the seat is held for a resume.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) info: Participant,
    pub(super) conn: Option<ConnId>,
    pub(super) seat: SeatId,
    pub(super) address: IpAddr,
}

#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) entry: LobbyEntry,
    pub(super) conn: ConnId,
    pub(super) address: IpAddr,
}

#[derive(Debug)]
pub(super) struct LiveMeeting {
    pub(super) info: MeetingBrief,
    pub(super) members: BTreeMap<ParticipantId, Member>,
    pub(super) lobby: BTreeMap<ParticipantId, Waiting>,
    /// Kept for the meeting's life so late joiners see the conversation.
    pub(super) chat: Vec<ChatMessage>,
    /// The SFU room of this meeting while it is live.
    pub(super) room: u64,
}

impl LiveMeeting {
    pub(super) fn new(info: MeetingBrief, room: u64) -> Self {
        Self {
            info,
            room,
            members: BTreeMap::new(),
            lobby: BTreeMap::new(),
            chat: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty() && self.lobby.is_empty()
    }

    pub(super) fn participants(&self) -> Vec<Participant> {
        self.members.values().map(|m| m.info.clone()).collect()
    }

    pub(super) fn lobby_entries(&self) -> Vec<LobbyEntry> {
        self.lobby.values().map(|w| w.entry.clone()).collect()
    }

    /// Sends `msg` to every connected member except `except`.
    pub(super) fn broadcast(&self, out: &mut Outbox, msg: &ServerMessage, except: Option<ConnId>) {
        for conn in self.members.values().filter_map(|m| m.conn) {
            if Some(conn) != except {
                out.send(conn, msg.clone());
            }
        }
    }

    /// Tells connected hosts who waits in the lobby now.
    pub(super) fn tell_hosts_about_lobby(&self, out: &mut Outbox) {
        let msg = ServerMessage::LobbyChanged {
            lobby: self.lobby_entries(),
        };
        for member in self.members.values().filter(|m| m.info.host) {
            if let Some(conn) = member.conn {
                out.send(conn, msg.clone());
            }
        }
    }

    /// The `joined` message for `pid`, with the hosts' view of the lobby.
    pub(super) fn joined_message(&self, pid: ParticipantId, resume_token: String) -> ServerMessage {
        let you = self.members[&pid].info.clone();
        let lobby = if you.host {
            self.lobby_entries()
        } else {
            Vec::new()
        };
        ServerMessage::Joined {
            you,
            meeting: self.info.clone(),
            participants: self.participants(),
            chat: self.chat.clone(),
            resume_token,
            lobby,
        }
    }
}
