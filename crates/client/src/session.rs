//! The signalling session as a sans-IO state machine: server messages and
//! the time go in; events for the user, messages to send, the media
//! answer, slot changes and layer wishes come out.
//!
//! # Driving contract
//!
//! The driver feeds every server message to [`Session::handle`] with the
//! current time, and calls [`Session::poll`] at [`Session::next_timeout`]
//! (and after every `handle`), sending what it returns. Nothing here reads
//! a clock or touches a socket, so tests run it on made-up time.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use confab_media::video::Layer;
use confab_proto::signal::{
    ClientMessage, MeetingBrief, Participant, ParticipantId, ServerMessage,
};

use crate::events::MeetingEvent;

/// Heartbeat interval until the server's `welcome` names one.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

/// What kind of media a receive slot carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotKind {
    Audio,
    Video,
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Said hello, waiting for `joined`, `lobby` or an error.
    Joining,
    Lobby,
    Joined,
    /// Left, removed, denied or ended: nothing more will come.
    Over,
}

/// What [`Session::handle`] asks the driver to do besides telling the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Event(MeetingEvent),
    /// The SFU's answer to our offer.
    Answer(String),
    /// Which simulcast layers to encode (indexed by [`Layer`]).
    Layers([bool; 3]),
    /// A participant's slots were freed: drop their decoders.
    SlotsFreed(ParticipantId),
    /// A fresh `joined` (first admission or resume): send a new offer.
    Offer,
}

/// The signalling state of one meeting connection.
#[derive(Debug)]
pub struct Session {
    phase: Phase,
    me: Option<ParticipantId>,
    meeting: Option<MeetingBrief>,
    participants: BTreeMap<ParticipantId, Participant>,
    /// Receive slot (mid) → whose media arrives in it.
    slots: HashMap<String, (ParticipantId, SlotKind)>,
    resume_token: Option<String>,
    heartbeat_interval: Duration,
    next_heartbeat: Option<Instant>,
    /// Tile sizes the user asked for, re-sent after every answer.
    views: BTreeMap<ParticipantId, (u32, u32)>,
    answered: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// Maps the protocol's rids (lowest first) to the encoder's layers.
pub fn layer_for_rid(rid: &str) -> Option<Layer> {
    match rid {
        "l" => Some(Layer::Quarter),
        "m" => Some(Layer::Half),
        "h" => Some(Layer::Full),
        _ => None,
    }
}

/// The rid a layer is sent under.
pub fn rid_for_layer(layer: Layer) -> &'static str {
    match layer {
        Layer::Quarter => "l",
        Layer::Half => "m",
        Layer::Full => "h",
    }
}

impl Session {
    pub fn new() -> Self {
        Self {
            phase: Phase::Joining,
            me: None,
            meeting: None,
            participants: BTreeMap::new(),
            slots: HashMap::new(),
            resume_token: None,
            heartbeat_interval: DEFAULT_HEARTBEAT,
            next_heartbeat: None,
            views: BTreeMap::new(),
            answered: false,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// This participant's id once admitted.
    pub fn me(&self) -> Option<ParticipantId> {
        self.me
    }

    pub fn meeting(&self) -> Option<&MeetingBrief> {
        self.meeting.as_ref()
    }

    /// Everyone in the meeting (this participant included), by id.
    pub fn participants(&self) -> &BTreeMap<ParticipantId, Participant> {
        &self.participants
    }

    pub fn resume_token(&self) -> Option<&str> {
        self.resume_token.as_deref()
    }

    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// Whose media arrives in receive slot `mid`.
    pub fn slot(&self, mid: &str) -> Option<(ParticipantId, SlotKind)> {
        self.slots.get(mid).copied()
    }

    /// The receive slot of `participant`'s media of `kind`.
    pub fn mid_of(&self, participant: ParticipantId, kind: SlotKind) -> Option<String> {
        self.slots
            .iter()
            .find(|(_, v)| **v == (participant, kind))
            .map(|(mid, _)| mid.clone())
    }

    /// A new media connection replaces the old one: slots arrive again,
    /// and views are sent again, after the next answer.
    pub fn new_media(&mut self) {
        self.slots.clear();
        self.answered = false;
    }

    /// The signalling connection dropped: no heartbeats until a resume's
    /// `joined`, and the media starts over.
    pub fn reconnecting(&mut self) {
        self.new_media();
        self.next_heartbeat = None;
    }

    /// Records the tile size for `participant`; returns the `view` message
    /// to send now, or `None` while no answer has arrived (it is sent then).
    pub fn set_view(
        &mut self,
        participant: ParticipantId,
        width: u32,
        height: u32,
    ) -> Option<ClientMessage> {
        self.views.insert(participant, (width, height));
        self.answered.then_some(ClientMessage::View {
            participant,
            width,
            height,
        })
    }

    /// When [`Session::poll`] wants to run next.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.next_heartbeat
    }

    /// Messages due at `now` (heartbeats).
    pub fn poll(&mut self, now: Instant) -> Option<ClientMessage> {
        self.next_heartbeat.filter(|at| *at <= now)?;
        self.next_heartbeat = Some(now + self.heartbeat_interval);
        Some(ClientMessage::Heartbeat)
    }

    /// Takes one server message; what it leads to is appended to `out`, and
    /// messages to send back (views after an answer) to `send`.
    pub fn handle(
        &mut self,
        msg: ServerMessage,
        now: Instant,
        out: &mut Vec<Output>,
        send: &mut Vec<ClientMessage>,
    ) {
        use ServerMessage as S;
        let event = |out: &mut Vec<Output>, e| out.push(Output::Event(e));
        match msg {
            S::Answer { .. }
            | S::MediaSlots { .. }
            | S::MediaSlotFreed { .. }
            | S::MediaSlotsFull { .. }
            | S::SendLayers { .. }
            | S::ActiveSpeaker { .. } => self.on_media(msg, out, send),
            S::Welcome {
                heartbeat_interval_ms,
                ..
            } => {
                self.heartbeat_interval =
                    Duration::from_millis(u64::from(heartbeat_interval_ms.max(100)));
            }
            S::Joined {
                you,
                meeting,
                participants,
                chat,
                resume_token,
                lobby,
            } => {
                self.phase = Phase::Joined;
                self.me = Some(you.id);
                self.meeting = Some(meeting.clone());
                self.participants = participants.iter().map(|p| (p.id, p.clone())).collect();
                self.resume_token = Some(resume_token);
                self.next_heartbeat = Some(now + self.heartbeat_interval);
                out.push(Output::Offer);
                event(
                    out,
                    MeetingEvent::Joined {
                        you,
                        meeting,
                        participants,
                        chat,
                        lobby,
                    },
                );
            }
            S::Lobby { meeting, you } => {
                self.phase = Phase::Lobby;
                self.meeting = Some(meeting.clone());
                // The lobby holds no seat but the socket still needs heartbeats.
                self.next_heartbeat = Some(now + self.heartbeat_interval);
                event(out, MeetingEvent::InLobby { meeting, you });
            }
            S::LobbyChanged { lobby } => event(out, MeetingEvent::LobbyChanged(lobby)),
            S::ParticipantJoined { participant } => {
                self.participants
                    .insert(participant.id, participant.clone());
                event(out, MeetingEvent::ParticipantJoined(participant));
            }
            S::ParticipantUpdated { participant } => {
                self.participants
                    .insert(participant.id, participant.clone());
                event(out, MeetingEvent::ParticipantUpdated(participant));
            }
            S::ParticipantLeft {
                participant,
                reason,
            } => {
                self.participants.remove(&participant);
                self.views.remove(&participant);
                event(
                    out,
                    MeetingEvent::ParticipantLeft {
                        participant,
                        reason,
                    },
                );
            }
            S::Chat { message } => event(out, MeetingEvent::Chat(message)),
            S::MuteRequested { by } => event(out, MeetingEvent::MuteRequested { by }),
            S::MeetingLocked { locked } => {
                if let Some(m) = &mut self.meeting {
                    m.locked = locked;
                }
                event(out, MeetingEvent::MeetingLocked(locked));
            }
            S::MeetingEnded { by } => {
                self.over();
                event(out, MeetingEvent::MeetingEnded { by });
            }
            S::Removed { by } => {
                self.over();
                event(out, MeetingEvent::Removed { by });
            }
            S::Left => {
                self.over();
                event(out, MeetingEvent::Left);
            }
            S::HeartbeatAck => {}
            S::Error { code, message } => {
                if code == confab_proto::signal::ErrorCode::Denied {
                    self.over();
                }
                event(out, MeetingEvent::Error { code, message });
            }
        }
    }

    /// The media half of [`Session::handle`].
    fn on_media(
        &mut self,
        msg: ServerMessage,
        out: &mut Vec<Output>,
        send: &mut Vec<ClientMessage>,
    ) {
        use ServerMessage as S;
        let event = |out: &mut Vec<Output>, e| out.push(Output::Event(e));
        match msg {
            S::Answer { sdp } => {
                self.answered = true;
                out.push(Output::Answer(sdp));
                send.extend(self.views.iter().map(|(&participant, &(width, height))| {
                    ClientMessage::View {
                        participant,
                        width,
                        height,
                    }
                }));
            }
            S::MediaSlots {
                participant,
                audio_mid,
                video_mid,
            } => self.slots_for(participant, audio_mid, video_mid),
            S::MediaSlotFreed { participant } => {
                self.slots.retain(|_, (p, _)| *p != participant);
                out.push(Output::SlotsFreed(participant));
                event(out, MeetingEvent::MediaEnded { participant });
            }
            S::MediaSlotsFull {
                participant,
                shown,
                others,
            } => event(
                out,
                MeetingEvent::SlotsFull {
                    participant,
                    shown,
                    others,
                },
            ),
            S::SendLayers { rids } => {
                let mut wanted = [false; 3];
                for layer in rids.iter().filter_map(|r| layer_for_rid(r)) {
                    wanted[layer as usize] = true;
                }
                out.push(Output::Layers(wanted));
            }
            S::ActiveSpeaker { participant } => {
                event(out, MeetingEvent::ActiveSpeaker(participant))
            }
            // Everything else is handled by `handle` itself.
            _ => {}
        }
    }

    fn slots_for(
        &mut self,
        participant: ParticipantId,
        audio: Option<String>,
        video: Option<String>,
    ) {
        // A slot names one participant at a time; a reused slot forgets its
        // previous owner.
        self.slots.retain(|_, (p, _)| *p != participant);
        if let Some(mid) = audio {
            self.slots.insert(mid, (participant, SlotKind::Audio));
        }
        if let Some(mid) = video {
            self.slots.insert(mid, (participant, SlotKind::Video));
        }
    }

    fn over(&mut self) {
        self.phase = Phase::Over;
        self.next_heartbeat = None;
        self.resume_token = None;
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
