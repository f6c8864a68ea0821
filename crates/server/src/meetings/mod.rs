//! Meetings the admin creates: storage and the rules for their fields.
//!
//! [`Meetings`] is the typed API over the `meetings` table. Every method
//! goes through [`Storage::call`], so async callers (the admin API, the
//! welcome page, signalling) never block the reactor.
//!
//! For signalling: look a meeting up with [`Meetings::get`], check
//! [`Meeting::liveness`] before admitting anyone (instant meetings are always
//! open; scheduled ones from 15 minutes before each occurrence until it
//! ends), and grant host controls when [`Meeting::host_key_matches`].

mod code;
mod error;
mod schedule;
mod store;

use subtle::ConstantTimeEq;

pub use code::MeetingCode;
pub use error::MeetingError;
pub use schedule::{
    DEFAULT_DURATION_MINUTES, Liveness, MAX_DURATION_MINUTES, OPENS_EARLY_SECS, Schedule, Slot,
    WEEK_SECS,
};
pub use store::{Meetings, Occurrence, Visibility};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 120;
/// Shortest passcode, in characters.
pub const MIN_PASSCODE: usize = 4;
/// Longest passcode, in characters.
pub const MAX_PASSCODE: usize = 32;

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub code: MeetingCode,
    pub title: String,
    /// Plaintext: the host reads it out in the invitation.
    pub passcode: Option<String>,
    /// Joiners wait until a host admits them.
    pub lobby: bool,
    /// Listed on the welcome page.
    pub public: bool,
    /// Grants host controls; compare with [`Meeting::host_key_matches`].
    pub host_key: String,
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// `None` for an instant meeting.
    pub schedule: Option<Schedule>,
}

impl Meeting {
    /// Whether `candidate` is this meeting's host key, in time that does not
    /// depend on how much of a wrong guess was right.
    pub fn host_key_matches(&self, candidate: &str) -> bool {
        self.host_key.as_bytes().ct_eq(candidate.as_bytes()).into()
    }

    /// Whether people may join at `now` (unix seconds).
    pub fn liveness(&self, now: i64) -> Liveness {
        match &self.schedule {
            None => Liveness::Open,
            Some(schedule) => schedule.liveness(now),
        }
    }

    fn fields(&self) -> NewMeeting {
        NewMeeting {
            title: self.title.clone(),
            passcode: self.passcode.clone(),
            lobby: self.lobby,
            public: self.public,
            schedule: self.schedule,
        }
    }
}

/// What the creator chooses about a meeting. The server adds the code,
/// host key and timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMeeting {
    pub title: String,
    pub passcode: Option<String>,
    pub lobby: bool,
    pub public: bool,
    pub schedule: Option<Schedule>,
}

impl NewMeeting {
    /// An instant meeting with only a title.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Checks every field and returns the stored form: the title trimmed, an
    /// empty passcode taken as none.
    pub fn validated(self) -> Result<Self, MeetingError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            return Err(MeetingError::EmptyTitle);
        }
        let len = title.chars().count();
        if len > MAX_TITLE {
            return Err(MeetingError::TitleTooLong { len });
        }
        if title.chars().any(char::is_control) {
            return Err(MeetingError::TitleHasControlCharacters);
        }
        let passcode = self.passcode.filter(|p| !p.is_empty());
        if let Some(passcode) = &passcode {
            let len = passcode.chars().count();
            if !(MIN_PASSCODE..=MAX_PASSCODE).contains(&len) {
                return Err(MeetingError::PasscodeLength { len });
            }
            if passcode.chars().any(char::is_control) {
                return Err(MeetingError::PasscodeHasControlCharacters);
            }
        }
        if let Some(schedule) = &self.schedule
            && !(1..=MAX_DURATION_MINUTES).contains(&schedule.duration_minutes)
        {
            return Err(MeetingError::Duration {
                minutes: schedule.duration_minutes,
            });
        }
        Ok(Self {
            title,
            passcode,
            ..self
        })
    }
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingChanges {
    pub title: Option<String>,
    /// `Some(None)` removes the passcode.
    pub passcode: Option<Option<String>>,
    pub lobby: Option<bool>,
    pub public: Option<bool>,
    /// `Some(None)` makes the meeting instant.
    pub starts_at: Option<Option<i64>>,
    pub duration_minutes: Option<u32>,
    pub weekly: Option<bool>,
}

impl MeetingChanges {
    /// The meeting's fields after this change, not yet validated.
    pub fn apply_to(&self, meeting: &Meeting) -> Result<NewMeeting, MeetingError> {
        let current = meeting.fields();
        let starts_at = match self.starts_at {
            Some(value) => value,
            None => current.schedule.map(|s| s.starts_at),
        };
        let schedule = match starts_at {
            None => {
                ensure_unscheduled(self.duration_minutes, self.weekly)?;
                None
            }
            Some(starts_at) => Some(Schedule {
                starts_at,
                duration_minutes: self
                    .duration_minutes
                    .or(current.schedule.map(|s| s.duration_minutes))
                    .unwrap_or(DEFAULT_DURATION_MINUTES),
                weekly: self
                    .weekly
                    .or(current.schedule.map(|s| s.weekly))
                    .unwrap_or(false),
            }),
        };
        Ok(NewMeeting {
            title: self.title.clone().unwrap_or(current.title),
            passcode: self.passcode.clone().unwrap_or(current.passcode),
            lobby: self.lobby.unwrap_or(current.lobby),
            public: self.public.unwrap_or(current.public),
            schedule,
        })
    }
}

/// Builds the schedule a creator asked for: `duration_minutes` and `weekly`
/// without a start are refused rather than silently dropped.
pub fn schedule_from(
    starts_at: Option<i64>,
    duration_minutes: Option<u32>,
    weekly: Option<bool>,
) -> Result<Option<Schedule>, MeetingError> {
    match starts_at {
        None => ensure_unscheduled(duration_minutes, weekly).map(|()| None),
        Some(starts_at) => Ok(Some(Schedule {
            starts_at,
            duration_minutes: duration_minutes.unwrap_or(DEFAULT_DURATION_MINUTES),
            weekly: weekly.unwrap_or(false),
        })),
    }
}

fn ensure_unscheduled(duration: Option<u32>, weekly: Option<bool>) -> Result<(), MeetingError> {
    if duration.is_some() {
        return Err(MeetingError::ScheduleIncomplete {
            field: "duration_minutes",
        });
    }
    if weekly == Some(true) {
        return Err(MeetingError::ScheduleIncomplete { field: "weekly" });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
