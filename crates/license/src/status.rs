//! What the installed licence (or its absence) means for the number of lines.

use std::fmt;

use jiff::Timestamp;

use crate::error::{LicenceError, human_time};
use crate::file::{Licence, verify};

/// Lines available without a valid licence, so a small office can start
/// without buying anything and a broken licence never stops the server.
pub const FREE_TIER_SEATS: u32 = 5;

/// The licence situation at one moment, for the seat limit and the admin
/// pages. Its `Display` is the line the admin console shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceStatus {
    /// A valid licence is installed.
    Licensed(Licence),
    /// The free tier applies, for this reason.
    FreeTier(FreeTierReason),
}

/// Why the free tier applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreeTierReason {
    NoLicence,
    /// A licence file is installed but refused.
    Refused(LicenceError),
}

impl LicenceStatus {
    /// Evaluates the installed licence file (`None` when there is none)
    /// against the keys this build trusts, at `now`.
    pub fn evaluate(file: Option<&[u8]>, now: Timestamp) -> Self {
        match file.map(|bytes| verify(bytes, now)) {
            None => Self::FreeTier(FreeTierReason::NoLicence),
            Some(Ok(licence)) => Self::Licensed(licence),
            Some(Err(err)) => Self::FreeTier(FreeTierReason::Refused(err)),
        }
    }

    /// The number of concurrent lines to give the seat pool.
    ///
    /// A licence for fewer lines than the free tier still gets the free
    /// tier's: paying must never leave an office with less than not paying.
    pub fn seat_limit(&self) -> u32 {
        match self {
            Self::Licensed(licence) => licence.seats.max(FREE_TIER_SEATS),
            Self::FreeTier(_) => FREE_TIER_SEATS,
        }
    }

    /// When this status changes by itself (a licence expires, or a
    /// not-yet-valid one starts), so the server knows when to evaluate again.
    pub fn next_change(&self) -> Option<Timestamp> {
        match self {
            Self::Licensed(licence) => licence.expires_at,
            Self::FreeTier(FreeTierReason::Refused(LicenceError::NotYetValid { not_before })) => {
                Some(*not_before)
            }
            Self::FreeTier(_) => None,
        }
    }
}

impl fmt::Display for LicenceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.seat_limit();
        match self {
            Self::Licensed(licence) => {
                write!(
                    f,
                    "Licensed to {}: {lines} lines (licence {}",
                    licence.licensee, licence.id
                )?;
                match licence.expires_at {
                    Some(end) => write!(f, ", expires {})", human_time(end)),
                    None => write!(f, ", no expiry date)"),
                }
            }
            Self::FreeTier(FreeTierReason::NoLicence) => {
                write!(f, "Free tier: {lines} lines (no licence installed)")
            }
            Self::FreeTier(FreeTierReason::Refused(err)) => {
                write!(f, "Free tier: {lines} lines ({err})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::{Payload, sign};
    use crate::keys::{DEV_KEY_ID, dev_secret_key};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn licence(seats: u32) -> Licence {
        Licence {
            id: "CL-1".into(),
            licensee: "Acme Ltd".into(),
            seats,
            issued_at: at("2026-01-01T00:00:00Z"),
            not_before: None,
            expires_at: Some(at("2027-01-01T00:00:00Z")),
            key_id: "confab-vendor-2026".into(),
        }
    }

    #[test]
    fn no_licence_is_the_free_tier_and_says_so() {
        let status = LicenceStatus::evaluate(None, at("2026-06-01T00:00:00Z"));
        assert_eq!(status.seat_limit(), FREE_TIER_SEATS);
        assert_eq!(
            status.to_string(),
            "Free tier: 5 lines (no licence installed)"
        );
        assert_eq!(status.next_change(), None);
    }

    #[test]
    fn valid_licence_gives_its_seats_and_names_the_licensee() {
        let status = LicenceStatus::Licensed(licence(10));
        assert_eq!(status.seat_limit(), 10);
        assert_eq!(
            status.to_string(),
            "Licensed to Acme Ltd: 10 lines (licence CL-1, expires 2027-01-01 00:00 UTC)"
        );
        assert_eq!(status.next_change(), Some(at("2027-01-01T00:00:00Z")));
    }

    #[test]
    fn licence_smaller_than_the_free_tier_still_gets_the_free_tier() {
        assert_eq!(
            LicenceStatus::Licensed(licence(2)).seat_limit(),
            FREE_TIER_SEATS
        );
    }

    #[test]
    fn refused_licence_falls_back_to_the_free_tier_with_the_reason() {
        let expired = LicenceStatus::FreeTier(FreeTierReason::Refused(LicenceError::Expired {
            expires_at: at("2026-03-01T00:00:00Z"),
        }));
        assert_eq!(expired.seat_limit(), FREE_TIER_SEATS);
        let text = expired.to_string();
        assert!(
            text.starts_with("Free tier: 5 lines (the licence expired on 2026-03-01 00:00 UTC"),
            "{text}"
        );
    }

    #[test]
    fn garbage_file_is_the_free_tier_not_an_error() {
        let status = LicenceStatus::evaluate(Some(b"hello"), at("2026-06-01T00:00:00Z"));
        assert!(matches!(
            status,
            LicenceStatus::FreeTier(FreeTierReason::Refused(LicenceError::Malformed(_)))
        ));
    }

    #[test]
    fn not_yet_valid_licence_says_when_to_look_again() {
        let start = at("2026-09-01T00:00:00Z");
        let payload = Payload {
            licence_id: "CL-2".into(),
            licensee: "Acme Ltd".into(),
            seats: 20,
            issued_at: at("2026-05-01T00:00:00Z"),
            not_before: Some(start),
            expires_at: None,
        };
        let file = sign(&dev_secret_key(), DEV_KEY_ID, &payload).unwrap();
        let status = LicenceStatus::evaluate(Some(&file), at("2026-06-01T00:00:00Z"));
        if cfg!(feature = "dev-key") {
            assert_eq!(status.next_change(), Some(start));
            assert_eq!(status.seat_limit(), FREE_TIER_SEATS);
            let later = LicenceStatus::evaluate(Some(&file), start);
            assert_eq!(later.seat_limit(), 20);
        } else {
            assert!(matches!(
                status,
                LicenceStatus::FreeTier(FreeTierReason::Refused(LicenceError::UnknownKey(_)))
            ));
        }
    }
}
