//! The installed licence: kept in the database, evaluated into a line limit.
//!
//! A file is verified before it is stored, so a refused upload never
//! replaces a working licence. The stored file is evaluated again at start
//! and whenever its status changes by itself (expiry), because a licence
//! valid yesterday may not be today.

use confab_license::{FreeTierReason, LicenceError, LicenceStatus, Timestamp, verify};
use confab_proto::LicenceInfo;

use crate::error::ServerError;
use crate::storage::Storage;

const SETTING: &str = "licence_file";

/// The stored licence file, if any.
pub fn stored_file(storage: &Storage) -> Result<Option<Vec<u8>>, ServerError> {
    Ok(storage.setting(SETTING)?.map(String::into_bytes))
}

/// The licence status now, from the stored file.
pub fn current_status(storage: &Storage, now: Timestamp) -> Result<LicenceStatus, ServerError> {
    let file = stored_file(storage)?;
    Ok(LicenceStatus::evaluate(file.as_deref(), now))
}

/// Why an upload was not installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Refused(#[from] LicenceError),
    #[error(transparent)]
    Storage(#[from] ServerError),
}

/// Verifies `file` and, when this build accepts it now, stores it in place
/// of any earlier licence.
pub fn install(
    storage: &Storage,
    file: &[u8],
    now: Timestamp,
) -> Result<LicenceStatus, InstallError> {
    let licence = verify(file, now)?;
    // verify() parsed the file as JSON, so it is UTF-8.
    let text =
        std::str::from_utf8(file).map_err(|_| LicenceError::Malformed("not UTF-8 text".into()))?;
    storage.set_setting(SETTING, text)?;
    Ok(LicenceStatus::Licensed(licence))
}

/// The admin console's view of a status.
pub fn info(status: &LicenceStatus) -> LicenceInfo {
    let mut info = LicenceInfo {
        licensed: matches!(status, LicenceStatus::Licensed(_)),
        lines: status.seat_limit(),
        summary: status.to_string(),
        licensee: None,
        licence_id: None,
        expires_at: None,
        problem: None,
    };
    match status {
        LicenceStatus::Licensed(licence) => {
            info.licensee = Some(licence.licensee.clone());
            info.licence_id = Some(licence.id.clone());
            info.expires_at = licence.expires_at.map(|t| t.to_string());
        }
        LicenceStatus::FreeTier(FreeTierReason::Refused(err)) => {
            info.problem = Some(err.to_string());
        }
        LicenceStatus::FreeTier(FreeTierReason::NoLicence) => {}
    }
    info
}

#[cfg(test)]
mod tests {
    use confab_license::{DEV_KEY_ID, Payload, dev_secret_key, sign};

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    pub(crate) fn dev_licence(seats: u32, expires: Option<&str>) -> Vec<u8> {
        let payload = Payload {
            licence_id: format!("CL-TEST-{seats}"),
            licensee: "Test Office".into(),
            seats,
            issued_at: at("2026-01-01T00:00:00Z"),
            not_before: None,
            expires_at: expires.map(at),
        };
        sign(&dev_secret_key(), DEV_KEY_ID, &payload).unwrap()
    }

    #[test]
    fn without_a_file_the_free_tier_applies_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let status = current_status(&storage, at("2026-11-29T00:00:00Z")).unwrap();
        assert_eq!(status.seat_limit(), confab_license::FREE_TIER_SEATS);
        assert_eq!(
            info(&status).summary,
            "Free tier: 5 lines (no licence installed)"
        );
    }

    #[test]
    fn an_installed_licence_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let now = at("2026-11-29T00:00:00Z");
        let storage = Storage::open(dir.path()).unwrap();
        install(&storage, &dev_licence(10, None), now).unwrap();
        drop(storage);
        let storage = Storage::open(dir.path()).unwrap();
        let status = current_status(&storage, now).unwrap();
        assert_eq!(status.seat_limit(), 10);
        assert_eq!(info(&status).licensee.as_deref(), Some("Test Office"));
    }

    #[test]
    fn a_tampered_upload_is_refused_with_the_reason_and_keeps_the_old_licence() {
        let dir = tempfile::tempdir().unwrap();
        let now = at("2026-11-29T00:00:00Z");
        let storage = Storage::open(dir.path()).unwrap();
        install(&storage, &dev_licence(10, None), now).unwrap();
        let mut forged: serde_json::Value = serde_json::from_slice(&dev_licence(50, None)).unwrap();
        forged["signature"] = serde_json::from_slice::<serde_json::Value>(&dev_licence(10, None))
            .unwrap()["signature"]
            .clone();
        let err = install(&storage, forged.to_string().as_bytes(), now).unwrap_err();
        assert!(
            err.to_string().contains("changed after it was signed"),
            "{err}"
        );
        assert_eq!(current_status(&storage, now).unwrap().seat_limit(), 10);
    }

    #[test]
    fn an_expired_stored_licence_falls_back_to_the_free_tier_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        install(
            &storage,
            &dev_licence(20, Some("2027-01-01T00:00:00Z")),
            at("2026-11-29T00:00:00Z"),
        )
        .unwrap();
        let later = current_status(&storage, at("2027-02-01T00:00:00Z")).unwrap();
        assert_eq!(later.seat_limit(), confab_license::FREE_TIER_SEATS);
        let shown = info(&later);
        assert!(!shown.licensed);
        assert!(
            shown.problem.unwrap().contains("expired"),
            "{}",
            shown.summary
        );
    }
}
