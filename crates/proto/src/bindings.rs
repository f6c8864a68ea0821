//! Generation of the UI's TypeScript types.
//!
//! The generated files are committed so the UI builds without Rust. Each
//! crate that exports types has a test calling [`assert_fresh`]: it
//! regenerates the files into a scratch folder and fails when the committed
//! copy differs. With `CONFAB_UPDATE_BINDINGS=1` it rewrites the committed
//! files instead.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use ts_rs::{Config, ExportError, TS};

/// Folder of the committed TypeScript files for this crate's types.
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/generated")
}

/// Writes the TypeScript declaration of every wire type the UI uses (and
/// the types they depend on) into `out_dir`, one file per type.
pub fn export_all(out_dir: &Path) -> Result<(), ExportError> {
    let cfg = Config::new().with_out_dir(out_dir);
    crate::Health::export_all(&cfg)?;
    crate::ReadyFile::export_all(&cfg)?;
    crate::GuestMeeting::export_all(&cfg)?;
    crate::ClientMessage::export_all(&cfg)?;
    crate::ServerMessage::export_all(&cfg)?;
    crate::LinesSnapshot::export_all(&cfg)?;
    crate::LicenceInfo::export_all(&cfg)?;
    crate::UsageHistory::export_all(&cfg)?;
    crate::admin::AdminError::export_all(&cfg)?;
    crate::admin::LoginRequest::export_all(&cfg)?;
    crate::admin::LoginResponse::export_all(&cfg)?;
    crate::admin::SetupRequest::export_all(&cfg)?;
    crate::admin::SessionInfo::export_all(&cfg)?;
    crate::admin::CreateMeeting::export_all(&cfg)?;
    crate::admin::UpdateMeeting::export_all(&cfg)?;
    crate::admin::MeetingDetails::export_all(&cfg)?;
    crate::admin::MeetingList::export_all(&cfg)?;
    Ok(())
}

/// Test support: panics unless the `.ts` files directly in `committed`
/// equal what `export` writes, naming the command that refreshes them.
pub fn assert_fresh(committed: &Path, export: impl Fn(&Path) -> Result<(), ExportError>) {
    if std::env::var_os("CONFAB_UPDATE_BINDINGS").is_some() {
        for stale in read_ts_files(committed).keys() {
            fs::remove_file(committed.join(stale)).expect("remove a stale binding");
        }
        export(committed).expect("export bindings");
    }
    static SCRATCH: AtomicU32 = AtomicU32::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "confab-bindings-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    ));
    export(&scratch).expect("export bindings");
    let fresh = read_ts_files(&scratch);
    let _ = fs::remove_dir_all(&scratch);
    assert!(!fresh.is_empty(), "no bindings were generated");
    let current = read_ts_files(committed);
    assert!(
        current == fresh,
        "{} is stale (differs in {:?}): run `CONFAB_UPDATE_BINDINGS=1 cargo test --workspace bindings` \
         and commit the result",
        committed.display(),
        differing(&current, &fresh),
    );
}

fn read_ts_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "ts") {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).expect("read a binding");
            files.insert(name, text);
        }
    }
    files
}

fn differing(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_typescript_bindings_are_up_to_date() {
        assert_fresh(&committed_dir(), export_all);
    }

    #[test]
    fn a_changed_committed_binding_is_reported_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        export_all(dir.path()).unwrap();
        fs::write(dir.path().join("Health.ts"), "export type Health = {};\n").unwrap();
        let result = std::panic::catch_unwind(|| assert_fresh(dir.path(), export_all));
        let message = *result.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("Health.ts"), "{message}");
    }
}
