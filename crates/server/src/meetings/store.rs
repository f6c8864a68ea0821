//! The `meetings` table behind a typed API.

use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use crate::error::ServerError;
use crate::storage::{Storage, random_hex, unix_now};

use super::{Meeting, MeetingChanges, MeetingCode, MeetingError, NewMeeting, Schedule};

/// Attempts at drawing an unused code before giving up. With 23^10 codes a
/// second draw is already rare; eight only fail when the random source is
/// broken.
const CODE_TRIES: u32 = 8;

const COLUMNS: &str = "code, title, passcode, lobby, host_key, public, created_by, created_at, \
                       updated_at, starts_at, duration_minutes, weekly";

/// Which meetings to include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    All,
    /// Only those marked public (the welcome page).
    PublicOnly,
}

/// One occurrence of a scheduled meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub meeting: Meeting,
    /// Unix seconds.
    pub starts_at: i64,
    /// Unix seconds.
    pub ends_at: i64,
}

/// Meetings in the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Meetings {
    storage: Storage,
}

impl Meetings {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    /// Validates `new`, gives it a fresh unique code and host key, and
    /// stores it.
    pub async fn create(&self, new: NewMeeting, created_by: &str) -> Result<Meeting, MeetingError> {
        self.create_with_codes(new, created_by, MeetingCode::random)
            .await
    }

    /// [`Meetings::create`] with the code source given, so a test can force
    /// a collision.
    pub(crate) async fn create_with_codes(
        &self,
        new: NewMeeting,
        created_by: &str,
        mut next_code: impl FnMut() -> MeetingCode + Send + 'static,
    ) -> Result<Meeting, MeetingError> {
        let new = new.validated()?;
        let created_by = created_by.to_owned();
        let inserted = self
            .storage
            .call(move |conn| {
                for _ in 0..CODE_TRIES {
                    let meeting = Meeting {
                        code: next_code(),
                        title: new.title.clone(),
                        passcode: new.passcode.clone(),
                        lobby: new.lobby,
                        public: new.public,
                        host_key: random_hex(16),
                        created_by: created_by.clone(),
                        created_at: unix_now(),
                        updated_at: unix_now(),
                        schedule: new.schedule,
                    };
                    match insert(conn, &meeting) {
                        Ok(()) => return Ok(Some(meeting)),
                        Err(e) if is_duplicate_key(&e) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Ok(None)
            })
            .await?;
        inserted.ok_or(MeetingError::NoFreeCode { tries: CODE_TRIES })
    }

    /// The meeting with this code, in any shape a person types it
    /// (see [`MeetingCode::parse`]); `None` when there is none.
    pub async fn get(&self, code: &str) -> Result<Option<Meeting>, ServerError> {
        let Some(code) = MeetingCode::parse(code) else {
            return Ok(None);
        };
        self.storage.call(move |conn| select_one(conn, &code)).await
    }

    /// Every meeting: scheduled ones by first start, then instant ones by
    /// creation.
    pub async fn list(&self) -> Result<Vec<Meeting>, ServerError> {
        self.storage
            .call(|conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM meetings \
                     ORDER BY starts_at IS NULL, starts_at, created_at, code"
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map([], from_row)?;
                rows.collect()
            })
            .await
    }

    /// Applies `changes` and stores the result; the code, host key and
    /// creation stay.
    pub async fn update(
        &self,
        code: &str,
        changes: MeetingChanges,
    ) -> Result<Meeting, MeetingError> {
        let not_found = || MeetingError::NotFound {
            code: code.to_owned(),
        };
        let parsed = MeetingCode::parse(code).ok_or_else(not_found)?;
        // Read, check and write in one call: the connection's mutex makes it
        // atomic with respect to every other writer in this process.
        let outcome = self
            .storage
            .call(move |conn| {
                let Some(current) = select_one(conn, &parsed)? else {
                    return Ok(None);
                };
                let fields = match changes.apply_to(&current).and_then(NewMeeting::validated) {
                    Ok(fields) => fields,
                    Err(invalid) => return Ok(Some(Err(invalid))),
                };
                let updated = Meeting {
                    title: fields.title,
                    passcode: fields.passcode,
                    lobby: fields.lobby,
                    public: fields.public,
                    schedule: fields.schedule,
                    updated_at: unix_now(),
                    ..current
                };
                write_fields(conn, &updated)?;
                Ok(Some(Ok(updated)))
            })
            .await?;
        outcome.ok_or_else(not_found)?
    }

    /// Removes the meeting; `false` when there was none with that code.
    pub async fn delete(&self, code: &str) -> Result<bool, ServerError> {
        let Some(code) = MeetingCode::parse(code) else {
            return Ok(false);
        };
        self.storage
            .call(move |conn| {
                conn.execute("DELETE FROM meetings WHERE code = ?1", [code.as_str()])
                    .map(|n| n > 0)
            })
            .await
    }

    /// Occurrences of scheduled meetings that overlap `[from, until)` (unix
    /// seconds), weekly ones expanded, earliest first.
    pub async fn occurrences_between(
        &self,
        from: i64,
        until: i64,
        which: Visibility,
    ) -> Result<Vec<Occurrence>, ServerError> {
        let public_only = which == Visibility::PublicOnly;
        let candidates = self
            .storage
            .call(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM meetings \
                     WHERE starts_at IS NOT NULL AND starts_at < ?1 \
                       AND (weekly = 1 OR starts_at + duration_minutes * 60 > ?2) \
                       AND (public = 1 OR ?3 = 0)"
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map(params![until, from, public_only], from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        let mut occurrences: Vec<Occurrence> = candidates
            .into_iter()
            .flat_map(|meeting| {
                let slots = meeting
                    .schedule
                    .map(|s| s.slots_between(from, until))
                    .unwrap_or_default();
                slots.into_iter().map(move |slot| Occurrence {
                    meeting: meeting.clone(),
                    starts_at: slot.starts_at,
                    ends_at: slot.ends_at,
                })
            })
            .collect();
        occurrences.sort_by(|a, b| {
            (a.starts_at, &a.meeting.title, &a.meeting.code).cmp(&(
                b.starts_at,
                &b.meeting.title,
                &b.meeting.code,
            ))
        });
        Ok(occurrences)
    }

    /// Instant meetings (no schedule), oldest first.
    pub async fn instant(&self, which: Visibility) -> Result<Vec<Meeting>, ServerError> {
        let public_only = which == Visibility::PublicOnly;
        self.storage
            .call(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM meetings \
                     WHERE starts_at IS NULL AND (public = 1 OR ?1 = 0) \
                     ORDER BY created_at, code"
                );
                let mut stmt = conn.prepare(&sql)?;
                let rows = stmt.query_map([public_only], from_row)?;
                rows.collect()
            })
            .await
    }
}

fn insert(conn: &Connection, m: &Meeting) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT INTO meetings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    );
    conn.execute(
        &sql,
        params![
            m.code.as_str(),
            m.title,
            m.passcode,
            m.lobby,
            m.host_key,
            m.public,
            m.created_by,
            m.created_at,
            m.updated_at,
            m.schedule.map(|s| s.starts_at),
            m.schedule.map(|s| s.duration_minutes),
            m.schedule.is_some_and(|s| s.weekly),
        ],
    )
    .map(drop)
}

fn write_fields(conn: &Connection, m: &Meeting) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE meetings SET title = ?2, passcode = ?3, lobby = ?4, public = ?5, updated_at = ?6,
                             starts_at = ?7, duration_minutes = ?8, weekly = ?9
         WHERE code = ?1",
        params![
            m.code.as_str(),
            m.title,
            m.passcode,
            m.lobby,
            m.public,
            m.updated_at,
            m.schedule.map(|s| s.starts_at),
            m.schedule.map(|s| s.duration_minutes),
            m.schedule.is_some_and(|s| s.weekly),
        ],
    )
    .map(drop)
}

fn select_one(conn: &Connection, code: &MeetingCode) -> rusqlite::Result<Option<Meeting>> {
    let sql = format!("SELECT {COLUMNS} FROM meetings WHERE code = ?1");
    conn.query_row(&sql, [code.as_str()], from_row).optional()
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Meeting> {
    let code: String = row.get("code")?;
    let starts_at: Option<i64> = row.get("starts_at")?;
    let duration: Option<u32> = row.get("duration_minutes")?;
    let schedule = match (starts_at, duration) {
        (Some(starts_at), Some(duration_minutes)) => Some(Schedule {
            starts_at,
            duration_minutes,
            weekly: row.get("weekly")?,
        }),
        _ => None,
    };
    Ok(Meeting {
        // Every stored code came from `MeetingCode`; one that does not parse
        // was written by hand and is kept verbatim rather than hidden.
        code: MeetingCode::parse(&code).unwrap_or_else(|| MeetingCode::verbatim(code)),
        title: row.get("title")?,
        passcode: row.get("passcode")?,
        lobby: row.get("lobby")?,
        host_key: row.get("host_key")?,
        public: row.get("public")?,
        created_by: row.get("created_by")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        schedule,
    })
}

fn is_duplicate_key(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(e, _)
            if e.code == ErrorCode::ConstraintViolation
                && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}
