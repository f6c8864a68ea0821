//! Generation of the UI's TypeScript types.
//!
//! The generated files are committed so the UI builds without Rust. The test
//! in this module regenerates them into a scratch folder and fails when the
//! committed copy differs; run it with `CONFAB_UPDATE_BINDINGS=1` to rewrite
//! the committed files instead.

use std::path::{Path, PathBuf};

use ts_rs::{Config, ExportError, TS};

/// Folder of the committed TypeScript files, relative to this crate.
pub const GENERATED_DIR: &str = "../../ui/src/lib/generated";

/// Writes the TypeScript declaration of every exported type (and the types
/// they depend on) into `out_dir`, one file per type.
pub fn export_all(out_dir: &Path) -> Result<(), ExportError> {
    let cfg = Config::new().with_out_dir(out_dir);
    crate::Health::export_all(&cfg)?;
    crate::ReadyFile::export_all(&cfg)?;
    Ok(())
}

/// The committed folder as an absolute path.
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED_DIR)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;

    use super::*;

    fn read_ts_files(dir: &Path) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        let Ok(entries) = fs::read_dir(dir) else {
            return files;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ts") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                files.insert(name, fs::read_to_string(&path).unwrap());
            }
        }
        files
    }

    #[test]
    fn committed_typescript_bindings_are_up_to_date() {
        if std::env::var_os("CONFAB_UPDATE_BINDINGS").is_some() {
            let dir = committed_dir();
            for stale in read_ts_files(&dir).keys() {
                fs::remove_file(dir.join(stale)).unwrap();
            }
            export_all(&dir).unwrap();
        }
        let scratch = tempfile::tempdir().unwrap();
        export_all(scratch.path()).unwrap();
        let fresh = read_ts_files(scratch.path());
        let committed = read_ts_files(&committed_dir());
        assert!(!fresh.is_empty(), "no bindings were generated");
        assert_eq!(
            committed, fresh,
            "ui/src/lib/generated is stale: run \
             `CONFAB_UPDATE_BINDINGS=1 cargo test -p confab-proto bindings` and commit the result"
        );
    }
}
