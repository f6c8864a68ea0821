//! What a meeting tells its user: everything a UI shows.

use confab_proto::signal::{
    ChatMessage, ErrorCode, LeaveReason, LobbyEntry, MeetingBrief, Participant, ParticipantId,
};

/// The state of the client's link to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    /// Signalling is up; the media path may still be connecting.
    Connected,
    /// The WebSocket or the media path dropped; the seat is being resumed.
    Reconnecting,
    /// Gave up: the seat could not be resumed in time (the reason says why).
    Failed(String),
}

/// One thing that happened in the meeting.
#[derive(Debug, Clone, PartialEq)]
pub enum MeetingEvent {
    Connection(ConnectionState),
    /// Admitted (also after the lobby and after a resume): the full picture.
    Joined {
        you: Participant,
        meeting: MeetingBrief,
        participants: Vec<Participant>,
        chat: Vec<ChatMessage>,
        /// Hosts see who waits in the lobby.
        lobby: Vec<LobbyEntry>,
    },
    /// Waiting in the lobby for a host.
    InLobby {
        meeting: MeetingBrief,
        you: LobbyEntry,
    },
    /// Hosts: the lobby changed.
    LobbyChanged(Vec<LobbyEntry>),
    ParticipantJoined(Participant),
    ParticipantUpdated(Participant),
    ParticipantLeft {
        participant: ParticipantId,
        reason: LeaveReason,
    },
    Chat(ChatMessage),
    ActiveSpeaker(ParticipantId),
    /// A host asks this person to mute.
    MuteRequested {
        by: String,
    },
    MeetingLocked(bool),
    MeetingEnded {
        by: String,
    },
    Removed {
        by: String,
    },
    /// This client left (answer to [`crate::Meeting::leave`]).
    Left,
    /// The server refused something; `message` is its sentence.
    Error {
        code: ErrorCode,
        message: String,
    },
    /// The media path connected (ICE and DTLS done).
    MediaConnected,
    /// A local media failure (device, codec, WebRTC), worded for a log.
    MediaError(String),
    /// A participant's video started or changed size; frames follow on
    /// [`crate::Meeting::video`] and the frame callback.
    VideoAvailable {
        participant: ParticipantId,
        width: u32,
        height: u32,
    },
    /// The offer's receive slots are all taken: `participant` is not
    /// received; `shown` of the `others` are ("Showing 4 of 6").
    SlotsFull {
        participant: ParticipantId,
        shown: u32,
        others: u32,
    },
    /// A participant's media slots were freed (they left or reconnected).
    MediaEnded {
        participant: ParticipantId,
    },
}
