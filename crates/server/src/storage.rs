//! The server's SQLite database: one file in the data directory, WAL mode,
//! schema changed only through the numbered migrations in `migrations/`.
//!
//! rusqlite is synchronous, so async callers go through [`Storage::call`],
//! which runs the closure on tokio's blocking pool and never stalls the
//! reactor that also carries signalling.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use crate::error::ServerError;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "confab.sqlite3";

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_settings.sql")),
        M::up(include_str!("../migrations/0002_meetings.sql")),
        M::up(include_str!("../migrations/0003_admin.sql")),
        M::up(include_str!("../migrations/0004_usage.sql")),
    ])
}

/// A shared handle to the database.
#[derive(Debug, Clone)]
pub struct Storage {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Storage {
    /// Opens (creating if needed) the database in `data_dir` and brings its
    /// schema up to date.
    pub fn open(data_dir: &Path) -> Result<Self, ServerError> {
        std::fs::create_dir_all(data_dir).map_err(|source| ServerError::Io {
            action: "create the data directory",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let db_err = |source| ServerError::Database {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(db_err)?;
        // WAL lets the admin console read while signalling writes; NORMAL
        // sync is durable across a process kill, which is what we guard.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|source| ServerError::Migration {
                path: path.clone(),
                source,
            })?;
        let storage = Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        };
        storage.ensure_identity()?;
        Ok(storage)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, ServerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves the connection usable:
            // SQLite rolls back the unfinished statement itself.
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .expect("database task panicked")
        .map_err(|source| ServerError::Database { path, source })
    }

    /// `true` when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.call(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .await
            .is_ok()
    }

    /// Reads a setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>, ServerError> {
        self.with_conn(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    /// Writes a setting, replacing any earlier value.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), ServerError> {
        self.with_conn(|c| {
            c.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value,
                                                updated_at = excluded.updated_at",
                params![key, value, unix_now()],
            )
            .map(drop)
        })
    }

    /// The random identity this installation was given on its first start.
    pub fn instance_id(&self) -> Result<String, ServerError> {
        Ok(self.setting("instance_id")?.unwrap_or_default())
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ServerError> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard).map_err(|source| ServerError::Database {
            path: self.path.clone(),
            source,
        })
    }

    fn ensure_identity(&self) -> Result<(), ServerError> {
        if self.setting("instance_id")?.is_none() {
            self.set_setting("instance_id", &random_hex(16))?;
            self.set_setting("first_started_at", &unix_now().to_string())?;
        }
        Ok(())
    }
}

/// The wall clock in unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `n` random bytes from the OS, hex-encoded.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_uses_wal_and_survives_reopen_with_the_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let first = Storage::open(dir.path()).unwrap();
        let id = first.instance_id().unwrap();
        assert_eq!(id.len(), 32);
        let mode: String = first
            .with_conn(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
        first.set_setting("greeting", "hello").unwrap();
        drop(first);

        let again = Storage::open(dir.path()).unwrap();
        assert_eq!(again.instance_id().unwrap(), id);
        assert_eq!(again.setting("greeting").unwrap().as_deref(), Some("hello"));
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DATABASE_FILE),
            b"this is not sqlite, just text",
        )
        .unwrap();
        let err = Storage::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains(DATABASE_FILE),
            "error names the file: {err}"
        );
    }

    #[tokio::test]
    async fn ping_answers_through_the_blocking_pool() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        assert!(storage.ping().await);
    }
}
