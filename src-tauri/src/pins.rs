//! Trust on first use for `https://` hosts: the first time the app joins a
//! host it remembers the certificate's SHA-256 fingerprint (in `pins.json`
//! in the app's data directory) and afterwards joins only a host showing
//! that certificate. A changed certificate is refused until the person
//! deliberately trusts the new one: it may be a reinstalled server, or
//! someone in between.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::settings::{SettingsError, read_or_default, write_atomically};

/// What the stored pin says about the fingerprint a host shows now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    /// Never joined this host: the fingerprint is now remembered.
    FirstUse,
    /// The same certificate as last time.
    Trusted,
    /// Another certificate than the one remembered.
    Changed { old: String, new: String },
}

/// Fingerprints per host (`https://office-pc:8443`).
#[derive(Debug)]
pub struct PinStore {
    path: PathBuf,
    // One writer at a time: two joins must not lose each other's pin.
    lock: Mutex<()>,
}

/// Fingerprints compare without regard to case or separators.
fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    norm(a) == norm(b)
}

/// The host part of a base URL, as pins are keyed: scheme, host and port
/// in lower case, without a trailing slash.
pub fn host_key(base: &str) -> String {
    base.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl PinStore {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            path: data_dir.join("pins.json"),
            lock: Mutex::new(()),
        }
    }

    pub fn get(&self, host: &str) -> Option<String> {
        let _guard = crate::lock(&self.lock);
        let pins: BTreeMap<String, String> = read_or_default(&self.path);
        pins.get(&host_key(host)).cloned()
    }

    /// Remembers `fingerprint` for `host`, replacing what was there.
    pub fn trust(&self, host: &str, fingerprint: &str) -> Result<(), SettingsError> {
        let _guard = crate::lock(&self.lock);
        let mut pins: BTreeMap<String, String> = read_or_default(&self.path);
        pins.insert(host_key(host), fingerprint.to_owned());
        write_atomically(&self.path, &pins)
    }

    /// Compares what `host` shows now with its pin, pinning it on first use.
    pub fn check(&self, host: &str, seen: &str) -> Result<PinCheck, SettingsError> {
        match self.get(host) {
            None => {
                self.trust(host, seen)?;
                Ok(PinCheck::FirstUse)
            }
            Some(old) if same(&old, seen) => Ok(PinCheck::Trusted),
            Some(old) => Ok(PinCheck::Changed {
                old,
                new: seen.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "AB:CD:EF:01";
    const B: &str = "12:34:56:78";

    #[test]
    fn the_first_certificate_is_pinned_and_a_changed_one_is_refused_until_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = PinStore::new(dir.path());
        let host = "https://Office-PC:8443/";
        assert_eq!(store.check(host, A).unwrap(), PinCheck::FirstUse);
        // Kept across a restart of the app, whatever the URL's case.
        let store = PinStore::new(dir.path());
        assert_eq!(store.get("https://office-pc:8443").as_deref(), Some(A));
        assert_eq!(
            store.check(host, &A.to_lowercase()).unwrap(),
            PinCheck::Trusted
        );
        assert_eq!(
            store.check(host, B).unwrap(),
            PinCheck::Changed {
                old: A.into(),
                new: B.into()
            }
        );
        // Refusing does not replace the pin; trusting does.
        assert_eq!(store.get(host).as_deref(), Some(A));
        store.trust(host, B).unwrap();
        assert_eq!(store.check(host, B).unwrap(), PinCheck::Trusted);
    }

    #[test]
    fn hosts_are_pinned_separately_and_a_broken_file_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = PinStore::new(dir.path());
        store.trust("https://a:8443", A).unwrap();
        assert_eq!(
            store.check("https://b:8443", B).unwrap(),
            PinCheck::FirstUse
        );
        assert_eq!(store.get("https://a:8443").as_deref(), Some(A));
        std::fs::write(dir.path().join("pins.json"), "{ not json").unwrap();
        assert_eq!(store.get("https://a:8443"), None);
        assert!(dir.path().join("pins.json.broken").exists());
    }
}
