//! The seat pool: which connections hold one of the licence's lines.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::error::SeatError;

/// How long a seat survives without a heartbeat, and how long a seat whose
/// connection closed waits for the same session to resume it.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(15);

/// Names one seat for its whole life, across resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeatId(u64);

/// Lets a session that lost its connection get its seat back. Sent to the
/// client at admission (as its `Display` text) and presented on reconnect.
///
/// The seat id part is public and only finds the seat; the 32 random bytes
/// are the secret and are compared in constant time, so a guesser learns
/// nothing from how long a refusal takes.
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeToken {
    seat: SeatId,
    secret: [u8; 32],
}

/// A new seat: its id and the token that resumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub seat: SeatId,
    pub resume_token: ResumeToken,
}

/// A seat taken back by a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed<C> {
    pub seat: SeatId,
    /// The token for the next resume; the presented one is spent, so a
    /// leaked token is good for one resume at most.
    pub resume_token: ResumeToken,
    /// The connection that held the seat until now, if the server had not
    /// yet noticed it was gone; the driver closes it.
    pub replaced: Option<C>,
}

/// Why a seat was given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeReason {
    /// The connection left, or was removed by the host or an admin.
    Released,
    /// The meeting ended.
    MeetingEnded,
    /// The connection stopped answering.
    HeartbeatTimeout,
    /// The connection closed and did not come back within the window.
    ResumeWindowPassed,
}

/// A seat given back, so the driver can tell the meeting who left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreedSeat<C, M> {
    pub seat: SeatId,
    /// The connection that held the seat last.
    pub connection: C,
    pub meeting: M,
    pub reason: FreeReason,
}

struct Seat<C, M> {
    connection: C,
    meeting: M,
    secret: [u8; 32],
    /// False once the connection closed: the seat is held for a resume.
    attached: bool,
    /// Heartbeat deadline while attached, end of the resume window after.
    deadline: Instant,
}

/// Counts the lines in use: one seat per admitted connection in a live
/// meeting, generic over the server's connection (`C`) and meeting (`M`) ids.
///
/// # Driving contract
///
/// The pool owns no clock, socket or task (sans-IO, as in str0m); it is the
/// single source of truth for "lines in use", and every call is cheap and
/// never blocks. The driver (the server's signalling layer, which wraps the
/// pool in a `Mutex`):
///
/// 1. passes the current [`Instant`] into every call that takes `now`; time
///    must not go backwards between calls;
/// 2. reports each event as it happens: [`admit`](Self::admit) when a
///    connection is let into a live meeting, [`heartbeat`](Self::heartbeat)
///    on each keep-alive, [`disconnected`](Self::disconnected) when a socket
///    closes without a leave, [`resume`](Self::resume) when a session comes
///    back with its token, [`release`](Self::release) on leave or removal,
///    [`end_meeting`](Self::end_meeting) when a meeting ends;
/// 3. after any call, reads [`next_timeout`](Self::next_timeout) and calls
///    [`poll_expired`](Self::poll_expired) no later than that instant, then
///    acts on each [`FreedSeat`] it returns (tell the meeting, close the
///    socket). A seat past its deadline keeps counting until `poll_expired`
///    frees it, so a driver that sleeps past the deadline delays admissions;
///    calling `poll_expired(now)` just before `admit` removes even that delay.
///
/// Seats that were freed are reported exactly once, by the call that freed
/// them: `release`, `release_seat`, `end_meeting` or `poll_expired`.
///
/// Lookups are `BTreeMap`s and the timeout scan is linear, which is plenty
/// for the hundreds of seats one office server holds.
pub struct SeatPool<C, M> {
    limit: u32,
    heartbeat_timeout: Duration,
    seats: BTreeMap<SeatId, Seat<C, M>>,
    /// Seats whose connection is open, by connection.
    attached: BTreeMap<C, SeatId>,
    next_seat: u64,
    refused: u64,
}

impl<C: Ord + Clone, M: Ord + Clone> SeatPool<C, M> {
    /// An empty pool with `limit` lines; see [`DEFAULT_HEARTBEAT_TIMEOUT`].
    pub fn new(limit: u32, heartbeat_timeout: Duration) -> Self {
        Self {
            limit,
            heartbeat_timeout,
            seats: BTreeMap::new(),
            attached: BTreeMap::new(),
            next_seat: 0,
            refused: 0,
        }
    }

    /// Gives `connection` a seat in `meeting`, or refuses with
    /// [`SeatError::Full`] when every line is taken.
    pub fn admit(
        &mut self,
        connection: C,
        meeting: M,
        now: Instant,
    ) -> Result<Admitted, SeatError> {
        if self.attached.contains_key(&connection) {
            return Err(SeatError::AlreadySeated);
        }
        if self.seats.len() >= self.limit as usize {
            self.refused += 1;
            return Err(SeatError::Full { limit: self.limit });
        }
        let seat = SeatId(self.next_seat);
        self.next_seat += 1;
        let secret = new_secret();
        self.attached.insert(connection.clone(), seat);
        self.seats.insert(
            seat,
            Seat {
                connection,
                meeting,
                secret,
                attached: true,
                deadline: now + self.heartbeat_timeout,
            },
        );
        Ok(Admitted {
            seat,
            resume_token: ResumeToken { seat, secret },
        })
    }

    /// Records a sign of life. Returns false when the connection holds no
    /// seat (it was freed), so the driver can tell it to rejoin.
    pub fn heartbeat(&mut self, connection: &C, now: Instant) -> bool {
        let deadline = now + self.heartbeat_timeout;
        let Some(seat) = self.attached_seat_mut(connection) else {
            return false;
        };
        seat.deadline = deadline;
        true
    }

    /// The connection closed without leaving: its seat is held for one
    /// heartbeat timeout so the session can [`resume`](Self::resume) it.
    /// Returns false when the connection held no seat.
    pub fn disconnected(&mut self, connection: &C, now: Instant) -> bool {
        let timeout = self.heartbeat_timeout;
        let Some(id) = self.attached.remove(connection) else {
            return false;
        };
        let seat = self.seats.get_mut(&id).expect("attached seats exist");
        seat.attached = false;
        seat.deadline = now + timeout;
        true
    }

    /// Gives the session's seat to `connection` (new or the same) without
    /// taking a second one, while the seat's deadline has not passed.
    pub fn resume(
        &mut self,
        token: &ResumeToken,
        connection: C,
        now: Instant,
    ) -> Result<Resumed<C>, SeatError> {
        let window = self.heartbeat_timeout;
        let Some(seat) = self.seats.get_mut(&token.seat) else {
            return Err(SeatError::UnknownSession);
        };
        if !bool::from(seat.secret.ct_eq(&token.secret)) {
            return Err(SeatError::UnknownSession);
        }
        if now >= seat.deadline {
            return Err(SeatError::ResumeWindowPassed { window });
        }
        if self
            .attached
            .get(&connection)
            .is_some_and(|&s| s != token.seat)
        {
            return Err(SeatError::AlreadySeated);
        }
        let replaced = if seat.attached && seat.connection != connection {
            self.attached.remove(&seat.connection);
            Some(seat.connection.clone())
        } else {
            None
        };
        seat.connection = connection.clone();
        seat.attached = true;
        seat.deadline = now + window;
        seat.secret = new_secret();
        self.attached.insert(connection, token.seat);
        Ok(Resumed {
            seat: token.seat,
            resume_token: ResumeToken {
                seat: token.seat,
                secret: seat.secret,
            },
            replaced,
        })
    }

    /// Frees the seat of an open connection now (leave, removal). Returns
    /// `None`, harmlessly, when it holds none.
    pub fn release(&mut self, connection: &C) -> Option<FreedSeat<C, M>> {
        let id = *self.attached.get(connection)?;
        self.release_seat(id)
    }

    /// Frees a seat by id, also one held for a resume (a host removing
    /// someone whose connection dropped). `None` when it is already free.
    pub fn release_seat(&mut self, seat: SeatId) -> Option<FreedSeat<C, M>> {
        self.free(seat, FreeReason::Released)
    }

    /// Frees every seat in `meeting` and returns them.
    pub fn end_meeting(&mut self, meeting: &M) -> Vec<FreedSeat<C, M>> {
        let ids: Vec<SeatId> = self
            .seats
            .iter()
            .filter(|(_, seat)| &seat.meeting == meeting)
            .map(|(&id, _)| id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.free(id, FreeReason::MeetingEnded))
            .collect()
    }

    /// Frees and returns the seats whose heartbeat or resume window ran out
    /// at or before `now`.
    pub fn poll_expired(&mut self, now: Instant) -> Vec<FreedSeat<C, M>> {
        let due: Vec<(SeatId, FreeReason)> = self
            .seats
            .iter()
            .filter(|(_, seat)| seat.deadline <= now)
            .map(|(&id, seat)| {
                let reason = if seat.attached {
                    FreeReason::HeartbeatTimeout
                } else {
                    FreeReason::ResumeWindowPassed
                };
                (id, reason)
            })
            .collect();
        due.into_iter()
            .filter_map(|(id, reason)| self.free(id, reason))
            .collect()
    }

    /// The earliest instant at which [`poll_expired`](Self::poll_expired)
    /// will free something, or `None` when no seat is taken.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.seats.values().map(|seat| seat.deadline).min()
    }

    /// Changes the number of lines. Nobody is dropped: with more seats taken
    /// than the new limit, admissions are refused until usage falls below it.
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Seats taken, including those held for a resume.
    pub fn in_use(&self) -> u32 {
        u32::try_from(self.seats.len()).unwrap_or(u32::MAX)
    }

    /// Seats taken per meeting; meetings with none are absent.
    pub fn per_meeting(&self) -> BTreeMap<M, u32> {
        let mut counts = BTreeMap::new();
        for seat in self.seats.values() {
            *counts.entry(seat.meeting.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Admissions refused because every line was taken, since the pool was
    /// made; for the admin console ("how often do we hit the limit?").
    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout
    }

    /// The seat an open connection holds.
    pub fn seat_of(&self, connection: &C) -> Option<SeatId> {
        self.attached.get(connection).copied()
    }

    fn attached_seat_mut(&mut self, connection: &C) -> Option<&mut Seat<C, M>> {
        let id = self.attached.get(connection)?;
        self.seats.get_mut(id)
    }

    fn free(&mut self, id: SeatId, reason: FreeReason) -> Option<FreedSeat<C, M>> {
        let seat = self.seats.remove(&id)?;
        if seat.attached {
            self.attached.remove(&seat.connection);
        }
        Some(FreedSeat {
            seat: id,
            connection: seat.connection,
            meeting: seat.meeting,
            reason,
        })
    }
}

fn new_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    // The server already treats a failing OS random source as fatal
    // (storage.rs); a predictable token would let anyone take over a seat.
    getrandom::fill(&mut secret).expect("the OS random source failed");
    secret
}

impl<C: fmt::Debug, M: fmt::Debug> fmt::Debug for SeatPool<C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeatPool")
            .field("limit", &self.limit)
            .field("in_use", &self.seats.len())
            .field("refused", &self.refused)
            .field("attached", &self.attached)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumeToken")
            .field("seat", &self.seat)
            .finish_non_exhaustive()
    }
}

/// base64url of the seat id (8 bytes, big-endian) and the secret: 54 characters.
impl fmt::Display for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = [0u8; 40];
        bytes[..8].copy_from_slice(&self.seat.0.to_be_bytes());
        bytes[8..].copy_from_slice(&self.secret);
        f.write_str(&URL_SAFE_NO_PAD.encode(bytes))
    }
}

impl FromStr for ResumeToken {
    type Err = SeatError;

    /// Anything that is not a token the pool could have made is an unknown
    /// session, the same answer as a wrong secret.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| SeatError::UnknownSession)?;
        let (seat, secret) = bytes
            .split_first_chunk::<8>()
            .ok_or(SeatError::UnknownSession)?;
        let secret: [u8; 32] = secret.try_into().map_err(|_| SeatError::UnknownSession)?;
        Ok(Self {
            seat: SeatId(u64::from_be_bytes(*seat)),
            secret,
        })
    }
}

#[cfg(test)]
mod tests;
