//! The admin account: an argon2id password hash in the `admins` table.
//!
//! There is one account, named [`ADMIN_USERNAME`]. Hashing and verifying
//! take tens of milliseconds of CPU by design, so they run on the blocking
//! pool, outside the database lock.

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{OptionalExtension, params};

use crate::error::ServerError;
use crate::storage::{Storage, unix_now};

use super::error::AuthError;

/// The one admin account's name.
pub const ADMIN_USERNAME: &str = "admin";

/// Shortest admin password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Login attempts older than this are dropped from the record.
const ATTEMPT_RECORD_SECS: i64 = 30 * 24 * 3600;

/// Whether [`set_password`] may replace an existing password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// First-run setup: refused with [`AuthError::AlreadySetUp`] when a
    /// password exists, so a leaked setup link cannot take over an account.
    CreateOnly,
    /// The operator's `confab-server admin set-password`.
    Replace,
}

/// Refuses passwords that are too short to be safe.
pub fn check_password_rules(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort { len });
    }
    Ok(())
}

/// `true` once an admin password exists.
pub async fn password_is_set(storage: &Storage) -> Result<bool, ServerError> {
    storage
        .call(|c| {
            c.query_row("SELECT count(*) FROM admins", [], |r| r.get::<_, i64>(0))
                .map(|n| n > 0)
        })
        .await
}

/// Stores a new argon2id hash of `password` for [`ADMIN_USERNAME`] and ends
/// every admin session, so a changed password locks out whoever had the old
/// one.
pub async fn set_password(
    storage: &Storage,
    password: &str,
    mode: SetMode,
) -> Result<(), AuthError> {
    check_password_rules(password)?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || {
        // Default parameters are argon2id, 19 MiB, 2 passes (OWASP's
        // recommendation); the salt comes from the OS through getrandom.
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .expect("password hashing task panicked")
    .map_err(AuthError::Hashing)?;
    let stored = storage
        .call(move |c| {
            let tx = c.transaction()?;
            let now = unix_now();
            let changed = match mode {
                SetMode::CreateOnly => tx.execute(
                    "INSERT INTO admins (username, password_hash, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?3) ON CONFLICT (username) DO NOTHING",
                    params![ADMIN_USERNAME, hash, now],
                )?,
                SetMode::Replace => tx.execute(
                    "INSERT INTO admins (username, password_hash, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                                                          updated_at = excluded.updated_at",
                    params![ADMIN_USERNAME, hash, now],
                )?,
            };
            tx.execute("DELETE FROM admin_sessions", [])?;
            tx.commit()?;
            Ok(changed > 0)
        })
        .await?;
    if stored {
        Ok(())
    } else {
        Err(AuthError::AlreadySetUp)
    }
}

/// Checks `password` against the stored hash; the account's name on
/// success.
pub(crate) async fn verify_password(
    storage: &Storage,
    password: &str,
) -> Result<String, AuthError> {
    let stored: Option<String> = storage
        .call(|c| {
            c.query_row(
                "SELECT password_hash FROM admins WHERE username = ?1",
                [ADMIN_USERNAME],
                |r| r.get(0),
            )
            .optional()
        })
        .await?;
    let stored = stored.ok_or(AuthError::SetupRequired)?;
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(&stored)?;
        // The parameters come from the stored hash, so hashes made with
        // older defaults keep verifying.
        match Argon2::default().verify_password(password.as_bytes(), &hash) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(other) => Err(other),
        }
    })
    .await
    .expect("password verification task panicked")
    .map_err(AuthError::Hashing)?;
    if matches {
        Ok(ADMIN_USERNAME.to_owned())
    } else {
        Err(AuthError::WrongPassword)
    }
}

/// Keeps a record of a login attempt for the administrator, dropping
/// records older than 30 days.
pub(crate) async fn record_attempt(
    storage: &Storage,
    address: IpAddr,
    succeeded: bool,
) -> Result<(), ServerError> {
    storage
        .call(move |c| {
            let now = unix_now();
            c.execute(
                "INSERT INTO admin_login_attempts (address, at, succeeded) VALUES (?1, ?2, ?3)",
                params![address.to_string(), now, succeeded],
            )?;
            c.execute(
                "DELETE FROM admin_login_attempts WHERE at < ?1",
                [now - ATTEMPT_RECORD_SECS],
            )
            .map(drop)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> (Storage, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (Storage::open(dir.path()).unwrap(), dir)
    }

    #[tokio::test]
    async fn passwords_are_stored_as_argon2id_and_verify() {
        let (storage, _dir) = storage();
        assert!(!password_is_set(&storage).await.unwrap());
        assert!(matches!(
            verify_password(&storage, "anything at all").await,
            Err(AuthError::SetupRequired)
        ));
        set_password(&storage, "correct horse battery", SetMode::CreateOnly)
            .await
            .unwrap();
        assert!(password_is_set(&storage).await.unwrap());
        let stored: String = storage
            .call(|c| c.query_row("SELECT password_hash FROM admins", [], |r| r.get(0)))
            .await
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));

        let who = verify_password(&storage, "correct horse battery")
            .await
            .unwrap();
        assert_eq!(who, ADMIN_USERNAME);
        assert!(matches!(
            verify_password(&storage, "correct horse batterY").await,
            Err(AuthError::WrongPassword)
        ));
    }

    #[tokio::test]
    async fn short_passwords_are_refused_and_setup_never_replaces_one() {
        let (storage, _dir) = storage();
        let err = set_password(&storage, "short", SetMode::Replace)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at least 10"), "{err}");
        set_password(&storage, "first password", SetMode::CreateOnly)
            .await
            .unwrap();
        assert!(matches!(
            set_password(&storage, "second password", SetMode::CreateOnly).await,
            Err(AuthError::AlreadySetUp)
        ));
        set_password(&storage, "second password", SetMode::Replace)
            .await
            .unwrap();
        verify_password(&storage, "second password").await.unwrap();
    }
}
