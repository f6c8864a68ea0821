//! Confab's concurrent-user licence, as pure logic.
//!
//! - [`verify`] checks a vendor-signed licence file offline against the keys
//!   compiled into this build ([`trusted_keys`]); [`sign`] makes one.
//! - [`LicenceStatus`] turns "this file, at this time" into a number of lines,
//!   falling back to the free tier ([`FREE_TIER_SEATS`]) with a reason.
//! - [`SeatPool`] counts the lines in use, sans-IO: time is an argument.
//!
//! The development key (`confab-dev`) is trusted only when the crate is built
//! with the `dev-key` feature. Its secret is committed for tests, so it is
//! public: release builds must leave the feature off. See docs/licence.md.
//!
//! The crate reads no clock and touches no file or socket; the
//! `confab-license` vendor tool (src/main.rs) is the only part that does.

mod error;
mod file;
mod keys;
mod seats;
mod status;

pub use error::{IssueError, LicenceError, SeatError};
pub use file::{
    FORMAT, Licence, Payload, UnverifiedLicence, new_licence_id, read_unverified, sign, verify,
};
#[cfg(any(test, feature = "dev-key"))]
pub use keys::dev_secret_key;
pub use keys::{CONFAB_VENDOR_2026, DEV_KEY_ID, SecretKey, TrustedKey, trusted_keys};
pub use seats::{
    Admitted, DEFAULT_HEARTBEAT_TIMEOUT, FreeReason, FreedSeat, ResumeToken, Resumed, SeatId,
    SeatPool,
};
pub use status::{FREE_TIER_SEATS, FreeTierReason, LicenceStatus};

/// The time type of licence dates, re-exported so callers need not depend
/// on `jiff` themselves. `Timestamp::now()` reads the system clock.
pub use jiff::Timestamp;
