//! Live meetings: admission, the lobby, host controls, chat, and the seat
//! pool that counts licensed lines.
//!
//! # Driving contract
//!
//! [`Hub`] is sans-IO, like the seat pool inside it: it owns no socket,
//! task or clock. The signalling driver (`crate::ws`) calls it with the
//! current [`Now`] for every event (a connection opened, a message, a
//! socket closed) and delivers the [`Outbox`] each call returns: messages
//! to connections, and connections to close after their last message.
//! After every call the driver reads [`Hub::next_timeout`] and calls
//! [`Hub::tick`] no later than that, which frees the lines of connections
//! that stopped answering or did not come back. The driver holds the hub in
//! a mutex and never awaits while holding it.
//!
//! Every way a seat is given back (leave, removal, heartbeat or resume
//! timeout, the meeting ending, the media connection failing) lists the
//! participant in [`Outbox::left`], so the driver tears down their media
//! in one place whatever the cause.

mod host;
mod meeting;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use confab_license::{FreeReason, FreedSeat, ResumeToken, SeatError, SeatId, SeatPool};
use confab_proto::signal::{
    ChatMessage, ClientKind, ClientMessage, ErrorCode, LeaveReason, LobbyEntry, MAX_CHAT_CHARS,
    MAX_NAME_CHARS, MeetingBrief, Participant, ParticipantId, ServerMessage,
};
use confab_proto::{LinesSnapshot, LiveConnection, MeetingLines};
use meeting::{LiveMeeting, Member, Waiting};
use subtle::ConstantTimeEq;

/// Identifies one signalling connection (one WebSocket).
pub type ConnId = u64;

/// The time of an event, on both clocks: monotonic for timeouts, wall
/// clock for what people see.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub mono: Instant,
    pub unix_ms: u64,
}

impl Now {
    pub fn system() -> Self {
        Self {
            mono: Instant::now(),
            unix_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        }
    }
}

/// What the hub needs to know about a stored meeting to let someone in.
#[derive(Debug, Clone)]
pub struct MeetingRecord {
    pub code: String,
    pub title: String,
    pub passcode: Option<String>,
    pub lobby: bool,
    pub host_key: String,
}

/// A `join` message's fields.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub name: String,
    pub kind: ClientKind,
    pub passcode: Option<String>,
    pub host_key: Option<String>,
}

/// What a call asks the driver to do.
#[derive(Debug, Default)]
pub struct Outbox {
    pub messages: Vec<(ConnId, ServerMessage)>,
    /// Connections to close once their messages above are sent.
    pub close: Vec<ConnId>,
    /// Participants whose seat was given back: their media goes too.
    pub left: Vec<ParticipantId>,
}

impl Outbox {
    fn send(&mut self, conn: ConnId, msg: ServerMessage) {
        self.messages.push((conn, msg));
    }

    fn error(&mut self, conn: ConnId, code: ErrorCode, message: impl Into<String>) {
        self.send(
            conn,
            ServerMessage::Error {
                code,
                message: message.into(),
            },
        );
    }

    fn close(&mut self, conn: ConnId) {
        self.close.push(conn);
    }

    /// Appends what another call asked for.
    fn absorb(&mut self, other: Outbox) {
        self.messages.extend(other.messages);
        self.close.extend(other.close);
        self.left.extend(other.left);
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.close.is_empty() && self.left.is_empty()
    }

    /// The error code of the first error sent, for drivers that rate-limit
    /// on outcomes (a wrong passcode).
    pub fn first_error(&self) -> Option<ErrorCode> {
        self.messages.iter().find_map(|(_, m)| match m {
            ServerMessage::Error { code, .. } => Some(*code),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Seated,
    Waiting,
}

#[derive(Debug)]
struct Connection {
    address: IpAddr,
    /// Where this connection is, once it joined or waits.
    place: Option<(String, ParticipantId, Role)>,
}

/// All live meetings of this server and the lines they hold.
#[derive(Debug)]
pub struct Hub {
    meetings: HashMap<String, LiveMeeting>,
    conns: HashMap<ConnId, Connection>,
    seats: SeatPool<ConnId, String>,
    /// Who holds each seat, across resumes.
    seat_owner: HashMap<SeatId, (String, ParticipantId)>,
    next_participant: ParticipantId,
    /// Media room of the next live meeting: unique for the process.
    next_room: u64,
    /// Most lines in use since the usage sampler last asked.
    peak_since_sample: u32,
    refused_at_sample: u64,
}

impl Hub {
    pub fn new(line_limit: u32, heartbeat_timeout: Duration) -> Self {
        Self {
            meetings: HashMap::new(),
            conns: HashMap::new(),
            seats: SeatPool::new(line_limit, heartbeat_timeout),
            seat_owner: HashMap::new(),
            next_participant: 1,
            next_room: 1,
            peak_since_sample: 0,
            refused_at_sample: 0,
        }
    }

    /// A new signalling connection from `address`. It holds no line.
    pub fn connected(&mut self, conn: ConnId, address: IpAddr) {
        self.conns.insert(
            conn,
            Connection {
                address,
                place: None,
            },
        );
    }

    /// Whether `conn` is in a meeting or its lobby.
    pub fn is_placed(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.place.is_some())
    }

    /// Changes the number of licensed lines. Nobody is dropped.
    pub fn set_line_limit(&mut self, limit: u32) {
        self.seats.set_limit(limit);
    }

    pub fn lines_in_use(&self) -> u32 {
        self.seats.in_use()
    }

    pub fn line_limit(&self) -> u32 {
        self.seats.limit()
    }

    /// Joins refused because every line was taken.
    pub fn refused_joins(&self) -> u64 {
        self.seats.refused()
    }

    /// The most lines in use at once, and the joins refused, since the
    /// last call; for the per-minute usage history.
    pub fn take_usage_sample(&mut self) -> (u32, u32) {
        let in_use = self.seats.in_use();
        let peak = self.peak_since_sample.max(in_use);
        self.peak_since_sample = in_use;
        let refused = self.seats.refused() - self.refused_at_sample;
        self.refused_at_sample = self.seats.refused();
        (peak, refused as u32)
    }

    /// When [`tick`](Self::tick) must run next.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.seats.next_timeout()
    }

    /// A `join`: checks the passcode, the lock and the lobby, then takes a
    /// line, or refuses with a typed error.
    pub fn join(
        &mut self,
        conn: ConnId,
        req: JoinRequest,
        record: &MeetingRecord,
        now: Now,
    ) -> Outbox {
        let mut out = Outbox::default();
        let Some(address) = self.unplaced_address(conn, &mut out) else {
            return out;
        };
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            out.error(
                conn,
                ErrorCode::InvalidMessage,
                format!("Your name must be 1 to {MAX_NAME_CHARS} characters."),
            );
            return out;
        }
        let host = req
            .host_key
            .as_deref()
            .is_some_and(|k| bool::from(k.as_bytes().ct_eq(record.host_key.as_bytes())));
        if let Some(expected) = &record.passcode {
            let given = req.passcode.as_deref().unwrap_or("");
            if !host && !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
                out.error(
                    conn,
                    ErrorCode::WrongPasscode,
                    "That passcode is not right. Check the invitation and try again.",
                );
                return out;
            }
        }
        let next_room = &mut self.next_room;
        let live = self.meetings.entry(record.code.clone()).or_insert_with(|| {
            let room = *next_room;
            *next_room += 1;
            LiveMeeting::new(
                MeetingBrief {
                    code: record.code.clone(),
                    title: record.title.clone(),
                    locked: false,
                },
                room,
            )
        });
        if live.info.locked && !host {
            out.error(
                conn,
                ErrorCode::MeetingLocked,
                "The host has locked this meeting. Ask them to unlock it.",
            );
            self.drop_if_empty(&record.code);
            return out;
        }
        let pid = self.next_participant;
        self.next_participant += 1;
        if record.lobby && !host {
            let entry = LobbyEntry {
                id: pid,
                name: name.to_string(),
                kind: req.kind,
                waiting_since_ms: now.unix_ms,
            };
            live.lobby.insert(
                pid,
                Waiting {
                    entry: entry.clone(),
                    conn,
                    address,
                },
            );
            out.send(
                conn,
                ServerMessage::Lobby {
                    meeting: live.info.clone(),
                    you: entry,
                },
            );
            live.tell_hosts_about_lobby(&mut out);
            self.place(conn, &record.code, pid, Role::Waiting);
            return out;
        }
        let info = newcomer(pid, name, req.kind, host, now);
        self.admit(conn, &record.code, info, address, now, &mut out);
        out
    }

    /// A `resume`: the same participant takes back its line on a new
    /// connection, without a second line.
    pub fn resume(&mut self, conn: ConnId, token: &str, now: Now) -> Outbox {
        let mut out = Outbox::default();
        let Some(address) = self.unplaced_address(conn, &mut out) else {
            return out;
        };
        let resumed = token
            .parse::<ResumeToken>()
            .map_err(|_| SeatError::UnknownSession)
            .and_then(|t| self.seats.resume(&t, conn, now.mono));
        let resumed = match resumed {
            Ok(r) => r,
            Err(e) => {
                out.error(conn, ErrorCode::ResumeFailed, e.to_string());
                return out;
            }
        };
        let (code, pid) = self.seat_owner[&resumed.seat].clone();
        if let Some(old) = resumed.replaced {
            // The old socket had not been noticed as dead yet.
            if let Some(c) = self.conns.get_mut(&old) {
                c.place = None;
            }
            out.close(old);
        }
        let live = self
            .meetings
            .get_mut(&code)
            .expect("seated meetings are live");
        let member = live.members.get_mut(&pid).expect("seat owners are members");
        member.conn = Some(conn);
        member.address = address;
        member.info.connected = true;
        let update = ServerMessage::ParticipantUpdated {
            participant: member.info.clone(),
        };
        out.send(
            conn,
            live.joined_message(pid, resumed.resume_token.to_string()),
        );
        live.broadcast(&mut out, &update, Some(conn));
        self.place(conn, &code, pid, Role::Seated);
        out
    }

    /// Any message after `join`/`resume`.
    pub fn handle(&mut self, conn: ConnId, msg: ClientMessage, now: Now) -> Outbox {
        let mut out = Outbox::default();
        if matches!(msg, ClientMessage::Heartbeat) {
            self.seats.heartbeat(&conn, now.mono);
            out.send(conn, ServerMessage::HeartbeatAck);
            return out;
        }
        let Some((code, pid, role)) = self.conns.get(&conn).and_then(|c| c.place.clone()) else {
            out.error(
                conn,
                ErrorCode::OutOfOrder,
                "Join a meeting before sending that.",
            );
            return out;
        };
        match (role, msg) {
            (_, ClientMessage::Leave) => self.leave(conn, &code, pid, role, &mut out),
            (Role::Waiting, _) => out.error(
                conn,
                ErrorCode::OutOfOrder,
                "You are waiting in the lobby; a host has to let you in first.",
            ),
            (Role::Seated, msg) => self.handle_seated(conn, &code, pid, msg, now, &mut out),
        }
        out
    }

    /// The socket closed. A seated participant's line is held for a resume
    /// until [`tick`](Self::tick) gives it back; a lobby place is dropped.
    pub fn disconnected(&mut self, conn: ConnId, now: Now) -> Outbox {
        let mut out = Outbox::default();
        let Some(connection) = self.conns.remove(&conn) else {
            return out;
        };
        let Some((code, pid, role)) = connection.place else {
            return out;
        };
        let Some(live) = self.meetings.get_mut(&code) else {
            return out;
        };
        match role {
            Role::Waiting => {
                live.lobby.remove(&pid);
                live.tell_hosts_about_lobby(&mut out);
                self.drop_if_empty(&code);
            }
            Role::Seated => {
                self.seats.disconnected(&conn, now.mono);
                if let Some(member) = live.members.get_mut(&pid) {
                    member.conn = None;
                    member.info.connected = false;
                    let update = ServerMessage::ParticipantUpdated {
                        participant: member.info.clone(),
                    };
                    live.broadcast(&mut out, &update, None);
                }
            }
        }
        out
    }

    /// Gives back the lines of connections that stopped answering or did
    /// not come back in time.
    pub fn tick(&mut self, now: Now) -> Outbox {
        let mut out = Outbox::default();
        for freed in self.seats.poll_expired(now.mono) {
            self.forget_seat(freed, None, &mut out);
        }
        out
    }

    /// Removes a participant (host control or admin console): their line
    /// is given back at once, also when their connection is away.
    pub fn remove_participant(&mut self, code: &str, pid: ParticipantId, by: &str) -> Outbox {
        let mut out = Outbox::default();
        let Some(member) = self.meetings.get(code).and_then(|m| m.members.get(&pid)) else {
            return out;
        };
        if let Some(conn) = member.conn {
            out.send(conn, ServerMessage::Removed { by: by.to_string() });
        }
        if let Some(freed) = self.seats.release_seat(member.seat) {
            self.forget_seat(freed, Some(LeaveReason::Removed), &mut out);
        }
        out
    }

    /// Ends a meeting for everyone in it and in its lobby.
    pub fn end_meeting(&mut self, code: &str, by: &str) -> Outbox {
        let mut out = Outbox::default();
        let Some(live) = self.meetings.remove(code) else {
            return out;
        };
        let msg = ServerMessage::MeetingEnded { by: by.to_string() };
        let conns = live
            .members
            .values()
            .filter_map(|m| m.conn)
            .chain(live.lobby.values().map(|w| w.conn));
        for conn in conns {
            out.send(conn, msg.clone());
            out.close(conn);
            if let Some(c) = self.conns.get_mut(&conn) {
                c.place = None;
            }
        }
        for freed in self.seats.end_meeting(&code.to_string()) {
            self.seat_owner.remove(&freed.seat);
        }
        out.left.extend(live.members.keys().copied());
        out
    }

    /// The participant seated on `conn` and the media room of their
    /// meeting; `None` before `joined` (or in the lobby).
    pub fn seated(&self, conn: ConnId) -> Option<(ParticipantId, u64)> {
        let (code, pid, role) = self.conns.get(&conn)?.place.clone()?;
        if role != Role::Seated {
            return None;
        }
        Some((pid, self.meetings.get(&code)?.room))
    }

    /// Sends `msg` to a seated participant's connection, if it is connected.
    pub fn send_to_participant(&self, pid: ParticipantId, msg: ServerMessage) -> Outbox {
        let mut out = Outbox::default();
        if let Some(conn) = self
            .meetings
            .values()
            .find_map(|m| m.members.get(&pid))
            .and_then(|m| m.conn)
        {
            out.send(conn, msg);
        }
        out
    }

    /// Sends `msg` to everyone connected in the meeting `pid` sits in.
    pub fn broadcast_with(&self, pid: ParticipantId, msg: &ServerMessage) -> Outbox {
        let mut out = Outbox::default();
        if let Some(live) = self
            .meetings
            .values()
            .find(|m| m.members.contains_key(&pid))
        {
            live.broadcast(&mut out, msg, None);
        }
        out
    }

    /// The participant's media connection failed (ICE gave up, DTLS
    /// closed): like a heartbeat timeout, the seat is given back and the
    /// others see them leave with `timed_out`.
    pub fn media_failed(&mut self, pid: ParticipantId) -> Outbox {
        let mut out = Outbox::default();
        let Some(seat) = self
            .meetings
            .values()
            .find_map(|m| m.members.get(&pid))
            .map(|m| m.seat)
        else {
            return out;
        };
        if let Some(freed) = self.seats.release_seat(seat) {
            self.forget_seat(freed, Some(LeaveReason::TimedOut), &mut out);
        }
        out
    }

    /// The admin console's panel.
    pub fn snapshot(&self) -> LinesSnapshot {
        let mut meetings: Vec<MeetingLines> = self
            .meetings
            .values()
            .map(|m| MeetingLines {
                meeting: m.info.code.clone(),
                title: m.info.title.clone(),
                lines: m.members.len() as u32,
                lobby: m.lobby.len() as u32,
                locked: m.info.locked,
            })
            .collect();
        meetings.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.meeting.cmp(&b.meeting)));
        let mut connections: Vec<LiveConnection> = self
            .meetings
            .values()
            .flat_map(|m| {
                m.members.values().map(|member| LiveConnection {
                    meeting: m.info.code.clone(),
                    participant: member.info.id,
                    name: member.info.name.clone(),
                    kind: member.info.kind,
                    host: member.info.host,
                    address: member.address.to_string(),
                    connected_since_ms: member.info.joined_at_ms,
                    connected: member.conn.is_some(),
                })
            })
            .collect();
        connections.sort_by_key(|c| (c.connected_since_ms, c.participant));
        LinesSnapshot {
            in_use: self.seats.in_use(),
            licensed: self.seats.limit(),
            meetings,
            connections,
            refused_joins: self.seats.refused(),
        }
    }

    /// Lines in use per client kind, for metrics.
    pub fn lines_by_kind(&self) -> BTreeMap<&'static str, u32> {
        let mut counts = BTreeMap::from([("app", 0), ("browser", 0), ("boardroom", 0)]);
        for member in self.meetings.values().flat_map(|m| m.members.values()) {
            let key = match member.info.kind {
                ClientKind::App => "app",
                ClientKind::Browser => "browser",
                ClientKind::Boardroom => "boardroom",
            };
            *counts.entry(key).or_default() += 1;
        }
        counts
    }

    /// Whether `pid` holds a line in meeting `code` (connected or away).
    pub fn has_member(&self, code: &str, pid: ParticipantId) -> bool {
        self.meetings
            .get(code)
            .is_some_and(|m| m.members.contains_key(&pid))
    }

    /// Whether anyone is in meeting `code` or waiting in its lobby.
    pub fn is_live(&self, code: &str) -> bool {
        self.meetings.contains_key(code)
    }

    /// Number of meetings with anyone in them or waiting.
    pub fn live_meetings(&self) -> usize {
        self.meetings.len()
    }

    fn unplaced_address(&self, conn: ConnId, out: &mut Outbox) -> Option<IpAddr> {
        match self.conns.get(&conn) {
            Some(c) if c.place.is_none() => Some(c.address),
            Some(_) => {
                out.error(
                    conn,
                    ErrorCode::OutOfOrder,
                    "This connection is already in a meeting. Leave it first.",
                );
                None
            }
            None => {
                out.error(conn, ErrorCode::Internal, "Unknown connection.");
                None
            }
        }
    }

    fn place(&mut self, conn: ConnId, code: &str, pid: ParticipantId, role: Role) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.place = Some((code.to_string(), pid, role));
        }
    }

    /// Takes a line for `info` and tells everyone; on a full server sends
    /// `server_full` to `conn` instead.
    fn admit(
        &mut self,
        conn: ConnId,
        code: &str,
        info: Participant,
        address: IpAddr,
        now: Now,
        out: &mut Outbox,
    ) -> bool {
        let admitted = match self.seats.admit(conn, code.to_string(), now.mono) {
            Ok(a) => a,
            Err(e) => {
                out.error(conn, ErrorCode::ServerFull, e.to_string());
                self.drop_if_empty(code);
                return false;
            }
        };
        self.peak_since_sample = self.peak_since_sample.max(self.seats.in_use());
        let pid = info.id;
        let live = self
            .meetings
            .get_mut(code)
            .expect("admitting into a live meeting");
        let joined = ServerMessage::ParticipantJoined {
            participant: info.clone(),
        };
        live.broadcast(out, &joined, None);
        live.members.insert(
            pid,
            Member {
                info,
                conn: Some(conn),
                seat: admitted.seat,
                address,
            },
        );
        out.send(
            conn,
            live.joined_message(pid, admitted.resume_token.to_string()),
        );
        self.seat_owner
            .insert(admitted.seat, (code.to_string(), pid));
        self.place(conn, code, pid, Role::Seated);
        true
    }

    fn leave(
        &mut self,
        conn: ConnId,
        code: &str,
        pid: ParticipantId,
        role: Role,
        out: &mut Outbox,
    ) {
        match role {
            Role::Seated => {
                if let Some(freed) = self.seats.release(&conn) {
                    self.forget_seat(freed, None, out);
                }
            }
            Role::Waiting => {
                if let Some(live) = self.meetings.get_mut(code) {
                    live.lobby.remove(&pid);
                    live.tell_hosts_about_lobby(out);
                }
                self.drop_if_empty(code);
            }
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.place = None;
        }
        out.send(conn, ServerMessage::Left);
        out.close(conn);
    }

    fn handle_seated(
        &mut self,
        conn: ConnId,
        code: &str,
        pid: ParticipantId,
        msg: ClientMessage,
        now: Now,
        out: &mut Outbox,
    ) {
        let live = self
            .meetings
            .get_mut(code)
            .expect("seated meetings are live");
        let me = &live.members[&pid].info;
        let (my_name, host) = (me.name.clone(), me.host);
        match msg {
            ClientMessage::Chat { text } => {
                let text = text.trim();
                if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
                    out.error(
                        conn,
                        ErrorCode::InvalidMessage,
                        format!("A chat message must be 1 to {MAX_CHAT_CHARS} characters."),
                    );
                    return;
                }
                let message = ChatMessage {
                    from: pid,
                    name: my_name,
                    text: text.to_string(),
                    sent_at_ms: now.unix_ms,
                };
                live.chat.push(message.clone());
                live.broadcast(out, &ServerMessage::Chat { message }, None);
            }
            ClientMessage::RaiseHand { raised } => {
                self.update_me(code, pid, out, |p| p.hand_raised = raised)
            }
            ClientMessage::MediaState {
                audio_muted,
                video_muted,
            } => self.update_me(code, pid, out, |p| {
                p.audio_muted = audio_muted;
                p.video_muted = video_muted;
            }),
            msg if !host => {
                let _ = msg;
                out.error(
                    conn,
                    ErrorCode::NotHost,
                    "Only a host can do that. Join with the meeting's host key.",
                );
            }
            msg => self.host_control(conn, code, &my_name, msg, now, out),
        }
    }

    fn update_me(
        &mut self,
        code: &str,
        pid: ParticipantId,
        out: &mut Outbox,
        change: impl FnOnce(&mut Participant),
    ) {
        let live = self
            .meetings
            .get_mut(code)
            .expect("seated meetings are live");
        let member = live.members.get_mut(&pid).expect("seated members exist");
        change(&mut member.info);
        let update = ServerMessage::ParticipantUpdated {
            participant: member.info.clone(),
        };
        live.broadcast(out, &update, None);
    }

    /// A seat was freed by the pool: drop its member and tell the others.
    fn forget_seat(
        &mut self,
        freed: FreedSeat<ConnId, String>,
        reason: Option<LeaveReason>,
        out: &mut Outbox,
    ) {
        let Some((code, pid)) = self.seat_owner.remove(&freed.seat) else {
            return;
        };
        let Some(live) = self.meetings.get_mut(&code) else {
            return;
        };
        let Some(member) = live.members.remove(&pid) else {
            return;
        };
        let reason = reason.unwrap_or(match freed.reason {
            FreeReason::Released => LeaveReason::Left,
            FreeReason::MeetingEnded => LeaveReason::MeetingEnded,
            FreeReason::HeartbeatTimeout | FreeReason::ResumeWindowPassed => LeaveReason::TimedOut,
        });
        if let Some(conn) = member.conn {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.place = None;
            }
            out.close(conn);
        }
        live.broadcast(
            out,
            &ServerMessage::ParticipantLeft {
                participant: pid,
                reason,
            },
            None,
        );
        out.left.push(pid);
        self.drop_if_empty(&code);
    }

    fn drop_if_empty(&mut self, code: &str) {
        if self.meetings.get(code).is_some_and(LiveMeeting::is_empty) {
            self.meetings.remove(code);
        }
    }
}

/// A participant as admitted: connected, hand down, microphone and camera on.
fn newcomer(id: ParticipantId, name: &str, kind: ClientKind, host: bool, now: Now) -> Participant {
    Participant {
        id,
        name: name.to_string(),
        kind,
        host,
        hand_raised: false,
        audio_muted: false,
        video_muted: false,
        connected: true,
        joined_at_ms: now.unix_ms,
    }
}
