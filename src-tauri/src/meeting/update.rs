//! What the meeting screen hears: the client's [`MeetingEvent`]s as
//! serializable updates (the client's own type carries no TypeScript), plus
//! the app's additions (which frame-socket stream shows whom, quality).

use confab_client::{ConnectionState, MeetingEvent};
use confab_proto::signal::{
    ChatMessage, ErrorCode, LeaveReason, LobbyEntry, MeetingBrief, Participant,
};
use serde::Serialize;
use ts_rs::TS;

use super::quality::Quality;

/// The frame-socket stream a participant's video is published on.
pub fn video_stream(participant: u64) -> String {
    format!("participant-{participant}")
}

/// One thing that happened, for the page (the `meeting-event` event).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MeetingUpdate {
    /// `connected`, `reconnecting`, or `failed` with the reason.
    Connection {
        state: String,
        reason: Option<String>,
    },
    Joined {
        you: Participant,
        meeting: MeetingBrief,
        participants: Vec<Participant>,
        chat: Vec<ChatMessage>,
        lobby: Vec<LobbyEntry>,
    },
    InLobby {
        meeting: MeetingBrief,
    },
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
        participant: u64,
        reason: LeaveReason,
    },
    Chat {
        message: ChatMessage,
    },
    ActiveSpeaker {
        #[ts(type = "number")]
        participant: u64,
    },
    MuteRequested {
        by: String,
    },
    Locked {
        locked: bool,
    },
    Ended {
        by: String,
    },
    Removed {
        by: String,
    },
    Left,
    /// The server refused something (`media_slots_full`, a host control).
    Refused {
        code: ErrorCode,
        message: String,
    },
    MediaProblem {
        message: String,
    },
    /// The participant's video is on `stream` of the frame socket.
    Video {
        #[ts(type = "number")]
        participant: u64,
        stream: String,
        width: u32,
        height: u32,
    },
    VideoEnded {
        #[ts(type = "number")]
        participant: u64,
    },
    /// Not everyone fits in the receive slots: `shown` of `others` are.
    SlotsFull {
        #[ts(type = "number")]
        participant: u64,
        shown: u32,
        others: u32,
    },
    Quality {
        overall: Quality,
        /// Per participant id.
        #[ts(type = "Record<number, Quality>")]
        links: std::collections::BTreeMap<u64, Quality>,
    },
}

impl From<MeetingEvent> for MeetingUpdate {
    fn from(event: MeetingEvent) -> Self {
        use MeetingUpdate as U;
        match event {
            MeetingEvent::Connection(state) => {
                let (state, reason) = match state {
                    ConnectionState::Connecting => ("connecting", None),
                    ConnectionState::Connected => ("connected", None),
                    ConnectionState::Reconnecting => ("reconnecting", None),
                    ConnectionState::Failed(why) => ("failed", Some(why)),
                };
                U::Connection {
                    state: state.into(),
                    reason,
                }
            }
            MeetingEvent::Joined {
                you,
                meeting,
                participants,
                chat,
                lobby,
            } => U::Joined {
                you,
                meeting,
                participants,
                chat,
                lobby,
            },
            MeetingEvent::InLobby { meeting, .. } => U::InLobby { meeting },
            MeetingEvent::LobbyChanged(lobby) => U::LobbyChanged { lobby },
            MeetingEvent::ParticipantJoined(participant) => U::ParticipantJoined { participant },
            MeetingEvent::ParticipantUpdated(participant) => U::ParticipantUpdated { participant },
            MeetingEvent::ParticipantLeft {
                participant,
                reason,
            } => U::ParticipantLeft {
                participant,
                reason,
            },
            MeetingEvent::Chat(message) => U::Chat { message },
            MeetingEvent::ActiveSpeaker(participant) => U::ActiveSpeaker { participant },
            MeetingEvent::MuteRequested { by } => U::MuteRequested { by },
            MeetingEvent::MeetingLocked(locked) => U::Locked { locked },
            MeetingEvent::MeetingEnded { by } => U::Ended { by },
            MeetingEvent::Removed { by } => U::Removed { by },
            MeetingEvent::Left => U::Left,
            MeetingEvent::Error { code, message } => U::Refused { code, message },
            MeetingEvent::MediaConnected => U::Connection {
                state: "media_connected".into(),
                reason: None,
            },
            MeetingEvent::MediaError(message) => U::MediaProblem { message },
            MeetingEvent::VideoAvailable {
                participant,
                width,
                height,
            } => U::Video {
                participant,
                stream: video_stream(participant),
                width,
                height,
            },
            MeetingEvent::SlotsFull {
                participant,
                shown,
                others,
            } => U::SlotsFull {
                participant,
                shown,
                others,
            },
            MeetingEvent::MediaEnded { participant } => U::VideoEnded { participant },
        }
    }
}
