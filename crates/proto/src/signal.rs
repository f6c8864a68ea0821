//! Signalling: JSON messages on the `/ws` WebSocket (see docs/protocol.md).
//!
//! Every message is a JSON object tagged by a snake_case `type` field. The
//! client speaks first with `hello`; after `welcome` it may `join` (or
//! `resume` a seat it held before a network drop). Errors carry a machine
//! `code` and a sentence for the person.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Largest text frame the server accepts; bigger ones are refused with
/// [`ErrorCode::MessageTooLarge`] and the socket is closed.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 4000;

/// Identifies a participant within a meeting for the meeting's life; stays
/// the same across a resumed connection.
pub type ParticipantId = u64;

/// What kind of program is connected. A boardroom PC is one connection
/// however many people sit in front of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    App,
    Browser,
    Boardroom,
}

/// Messages a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First message on every connection.
    Hello { version: u32 },
    /// Ask to enter a meeting. A meeting with a lobby answers `lobby` first.
    Join {
        meeting: String,
        name: String,
        kind: ClientKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        passcode: Option<String>,
        /// Grants host controls when it matches the meeting's host key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        host_key: Option<String>,
    },
    /// Take back the seat of a connection that dropped, within the heartbeat
    /// timeout, with the token from `joined`.
    Resume { token: String },
    /// Leave the meeting (or the lobby); the seat is given back at once.
    Leave,
    /// Keeps the seat: send one every `heartbeat_interval_ms`.
    Heartbeat,
    /// Send a chat message to everyone in the meeting.
    Chat { text: String },
    /// Raise or lower a hand.
    RaiseHand { raised: bool },
    /// Tell the others whether this participant's microphone and camera are on.
    MediaState {
        audio_muted: bool,
        video_muted: bool,
    },
    /// Host: let someone in from the lobby.
    Admit {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    /// Host: refuse someone waiting in the lobby.
    Deny {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    /// Host: remove a participant from the meeting.
    Remove {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    /// Host: ask a participant to mute their microphone.
    AskMute {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    /// Host: lock (nobody new may join) or unlock the meeting.
    SetLocked { locked: bool },
    /// Host: end the meeting for everyone.
    EndMeeting,
    /// After `joined`: the WebRTC offer of this participant's one media
    /// connection (one sendonly audio, one sendonly simulcast video, N
    /// recvonly audio and N recvonly video slots). Answered by `answer`.
    /// A second offer replaces the first connection.
    Offer { sdp: String },
    /// After `answer`: the size this participant shows another one's video
    /// at, in pixels; 0×0 means not shown (no video is sent for it).
    View {
        #[ts(type = "number")]
        participant: ParticipantId,
        width: u32,
        height: u32,
    },
}

impl ClientMessage {
    /// Every `type` value a client may send, so a parser can tell an
    /// unknown type from a known one with bad fields.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "join",
        "resume",
        "leave",
        "heartbeat",
        "chat",
        "raise_hand",
        "media_state",
        "admit",
        "deny",
        "remove",
        "ask_mute",
        "set_locked",
        "end_meeting",
        "offer",
        "view",
    ];
}

/// A participant as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Participant {
    #[ts(type = "number")]
    pub id: ParticipantId,
    pub name: String,
    pub kind: ClientKind,
    pub host: bool,
    pub hand_raised: bool,
    pub audio_muted: bool,
    pub video_muted: bool,
    /// `false` while the connection is away and may still resume.
    pub connected: bool,
    /// Unix milliseconds of admission.
    #[ts(type = "number")]
    pub joined_at_ms: u64,
}

/// Someone waiting in the lobby (visible to hosts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LobbyEntry {
    #[ts(type = "number")]
    pub id: ParticipantId,
    pub name: String,
    pub kind: ClientKind,
    #[ts(type = "number")]
    pub waiting_since_ms: u64,
}

/// One chat message, kept for the meeting's life and sent to late joiners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChatMessage {
    #[ts(type = "number")]
    pub from: ParticipantId,
    pub name: String,
    pub text: String,
    #[ts(type = "number")]
    pub sent_at_ms: u64,
}

/// The meeting as a participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MeetingBrief {
    pub code: String,
    pub title: String,
    pub locked: bool,
}

/// Why a participant is no longer in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Removed,
    TimedOut,
    MeetingEnded,
}

/// Messages the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `hello`.
    Welcome {
        version: u32,
        server: String,
        heartbeat_interval_ms: u32,
    },
    /// Admitted into the live meeting: this connection now holds a seat.
    Joined {
        you: Participant,
        meeting: MeetingBrief,
        participants: Vec<Participant>,
        chat: Vec<ChatMessage>,
        /// Present to `resume` after a network drop.
        resume_token: String,
        /// Hosts see who waits in the lobby.
        lobby: Vec<LobbyEntry>,
    },
    /// Waiting in the lobby for a host; no seat is held yet.
    Lobby {
        meeting: MeetingBrief,
        you: LobbyEntry,
    },
    /// Hosts: the lobby changed.
    LobbyChanged {
        lobby: Vec<LobbyEntry>,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantUpdated {
        participant: Participant,
    },
    ParticipantLeft {
        #[ts(type = "number")]
        participant: ParticipantId,
        reason: LeaveReason,
    },
    Chat {
        message: ChatMessage,
    },
    /// A host asks you to mute your microphone.
    MuteRequested {
        by: String,
    },
    MeetingLocked {
        locked: bool,
    },
    /// The meeting is over for everyone; the connection closes next.
    MeetingEnded {
        by: String,
    },
    /// You were removed by a host or an admin; the connection closes next.
    Removed {
        by: String,
    },
    /// Answer to `heartbeat`.
    HeartbeatAck,
    /// Answer to `leave`: the seat is free; the connection closes next.
    Left,
    /// Answer to `offer`: the server's SDP answer.
    Answer {
        sdp: String,
    },
    /// `participant`'s media arrives in these receive slots (mids of your
    /// offer); `null` when they do not publish that kind.
    MediaSlots {
        #[ts(type = "number")]
        participant: ParticipantId,
        audio_mid: Option<String>,
        video_mid: Option<String>,
    },
    /// `participant` left: their slots are free and will be reused.
    MediaSlotFreed {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    /// Your offer has no free receive slot for `participant`, so you do
    /// not receive them: you receive `shown` of the `others` in the
    /// meeting ("Showing 4 of 6 participants"). When a slot frees up it
    /// goes to someone not received, with `media_slots`.
    MediaSlotsFull {
        #[ts(type = "number")]
        participant: ParticipantId,
        shown: u32,
        others: u32,
    },
    /// To a publisher: the simulcast layers (rids) somebody receives; the
    /// others may be paused until they are listed again.
    SendLayers {
        rids: Vec<String>,
    },
    /// The loudest participant of the meeting changed.
    ActiveSpeaker {
        #[ts(type = "number")]
        participant: ParticipantId,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// Machine-readable reason of an `error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// `hello` named a protocol version this server does not speak.
    UnsupportedVersion,
    /// The frame was not a JSON object with a `type`, or its fields were wrong.
    InvalidMessage,
    /// The `type` is not one this server knows.
    UnknownType,
    /// The frame was bigger than [`MAX_MESSAGE_BYTES`].
    MessageTooLarge,
    /// A message that is not allowed now (chat before join, join twice, ...).
    OutOfOrder,
    MeetingNotFound,
    /// A scheduled meeting that does not open yet.
    MeetingNotOpen,
    WrongPasscode,
    MeetingLocked,
    /// Every licensed line is in use.
    ServerFull,
    /// Too many attempts from this address; wait and retry.
    RateLimited,
    /// A host control from someone who is not a host.
    NotHost,
    UnknownParticipant,
    /// The resume token was wrong or its seat already given back.
    ResumeFailed,
    /// The lobby entry was refused by a host.
    Denied,
    Internal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn join_has_the_documented_shape() {
        let msg: ClientMessage = serde_json::from_value(json!({
            "type": "join", "meeting": "kqz-rmtp-wfa", "name": "Ana", "kind": "boardroom",
            "passcode": "1234"
        }))
        .unwrap();
        assert_eq!(
            msg,
            ClientMessage::Join {
                meeting: "kqz-rmtp-wfa".into(),
                name: "Ana".into(),
                kind: ClientKind::Boardroom,
                passcode: Some("1234".into()),
                host_key: None,
            }
        );
    }

    #[test]
    fn errors_serialize_as_type_code_message() {
        let msg = ServerMessage::Error {
            code: ErrorCode::ServerFull,
            message: "All 10 lines are in use.".into(),
        };
        assert_eq!(
            serde_json::to_value(&msg).unwrap(),
            json!({"type": "error", "code": "server_full", "message": "All 10 lines are in use."})
        );
    }

    #[test]
    fn every_listed_type_parses_and_no_other() {
        for ty in ClientMessage::TYPES {
            let err = serde_json::from_value::<ClientMessage>(json!({ "type": ty }))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.contains("unknown variant"), "{ty}: {err}");
        }
        let err = serde_json::from_value::<ClientMessage>(json!({"type": "dance"})).unwrap_err();
        assert!(err.to_string().contains("unknown variant"));
    }

    #[test]
    fn media_messages_have_the_documented_shape() {
        let view: ClientMessage = serde_json::from_value(json!({
            "type": "view", "participant": 7, "width": 640, "height": 360
        }))
        .unwrap();
        assert_eq!(
            view,
            ClientMessage::View {
                participant: 7,
                width: 640,
                height: 360
            }
        );
        let slots = ServerMessage::MediaSlots {
            participant: 7,
            audio_mid: Some("2".into()),
            video_mid: None,
        };
        assert_eq!(
            serde_json::to_value(&slots).unwrap(),
            json!({"type": "media_slots", "participant": 7, "audio_mid": "2", "video_mid": null})
        );
        let layers = ServerMessage::SendLayers {
            rids: vec!["l".into(), "m".into()],
        };
        assert_eq!(
            serde_json::to_value(&layers).unwrap(),
            json!({"type": "send_layers", "rids": ["l", "m"]})
        );
        let full = ServerMessage::MediaSlotsFull {
            participant: 9,
            shown: 4,
            others: 6,
        };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({"type": "media_slots_full", "participant": 9, "shown": 4, "others": 6})
        );
    }

    #[test]
    fn hello_is_the_documented_first_message() {
        let hello: ClientMessage = serde_json::from_str(r#"{"type":"hello","version":1}"#).unwrap();
        assert_eq!(hello, ClientMessage::Hello { version: 1 });
    }
}
