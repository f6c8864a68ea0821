//! Which keys may sign licences, and the vendor's secret key files.
//!
//! Public keys are compiled in, so verification needs no network and no
//! configuration an administrator could get wrong. Whether the development
//! key is trusted is decided by the `dev-key` cargo feature at build time,
//! never at run time: a switch or variable could be flipped on a customer's
//! server, a feature cannot.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey};

use crate::error::IssueError;

/// A public key that licence files name by `id` (their `key_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedKey {
    pub id: &'static str,
    /// The Ed25519 public key, 32 bytes.
    pub public_key: [u8; 32],
}

/// The vendor's production signing key. Its secret never leaves the vendor's
/// offline machine and is in no repository.
pub const CONFAB_VENDOR_2026: TrustedKey = TrustedKey {
    id: "confab-vendor-2026",
    public_key: [
        0xfc, 0x40, 0x01, 0x56, 0xec, 0x9f, 0x9b, 0x0a, 0x00, 0x9c, 0xe8, 0x86, 0x97, 0xb7, 0xed,
        0x0b, 0x7c, 0x01, 0x93, 0x9b, 0x0d, 0x70, 0xc9, 0xe0, 0x3b, 0x73, 0x8f, 0xdf, 0x63, 0x07,
        0x17, 0xbd,
    ],
};

/// `key_id` of the development key.
pub const DEV_KEY_ID: &str = "confab-dev";

/// The development key. Its secret is committed
/// (`crates/license/dev-key/confab-dev.secret`), so anyone can sign with it:
/// it is trusted only by builds with the `dev-key` feature.
#[cfg(any(test, feature = "dev-key"))]
pub(crate) const DEV_KEY: TrustedKey = TrustedKey {
    id: DEV_KEY_ID,
    public_key: [
        0x11, 0x94, 0xb8, 0x3d, 0xa7, 0x8d, 0xeb, 0xca, 0xe6, 0x63, 0x9f, 0xfd, 0x71, 0x04, 0xbe,
        0xdc, 0xbb, 0x54, 0x9d, 0xf2, 0x75, 0xa2, 0x0d, 0x80, 0x94, 0xdd, 0xed, 0x8a, 0xb1, 0x47,
        0xcf, 0xf2,
    ],
};

/// The keys a release build trusts.
#[cfg(any(test, not(feature = "dev-key")))]
pub(crate) const PRODUCTION_KEYS: &[TrustedKey] = &[CONFAB_VENDOR_2026];

#[cfg(feature = "dev-key")]
const DEVELOPMENT_KEYS: &[TrustedKey] = &[CONFAB_VENDOR_2026, DEV_KEY];

/// The keys this build trusts: the vendor's, plus the development key when
/// built with the `dev-key` feature.
pub fn trusted_keys() -> &'static [TrustedKey] {
    #[cfg(feature = "dev-key")]
    {
        DEVELOPMENT_KEYS
    }
    #[cfg(not(feature = "dev-key"))]
    {
        PRODUCTION_KEYS
    }
}

/// The secret key of the (public) development key, for tests and development
/// builds that need to issue licences.
#[cfg(any(test, feature = "dev-key"))]
pub fn dev_secret_key() -> SecretKey {
    SecretKey::from_file_text(include_str!("../dev-key/confab-dev.secret"))
        .expect("the committed development key file is valid; checked by a test")
}

/// Checks that a key id is short and plain, so it reads well in messages and
/// cannot smuggle anything into a file or a terminal.
pub(crate) fn check_key_id(id: &str) -> Result<(), IssueError> {
    let plain = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if plain && (1..=64).contains(&id.len()) {
        Ok(())
    } else {
        Err(IssueError::BadKeyId(id.to_owned()))
    }
}

/// A licence-signing secret key. It is wiped from memory when dropped and
/// never shown by `Debug`.
pub struct SecretKey(SigningKey);

const FILE_HEADER: &str = "# Confab licence signing key (Ed25519 secret, hex).\n\
    # Anyone who has this file can issue licences: keep it offline.\n";

impl SecretKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        // Without working OS randomness no key is safe to make; the server
        // treats this the same way (storage.rs).
        getrandom::fill(&mut seed).expect("the OS random source failed");
        Self(SigningKey::from_bytes(&seed))
    }

    /// Reads a key file: comment lines start with `#`, and exactly one other
    /// line holds the 32-byte secret as 64 hex digits.
    pub fn from_file_text(text: &str) -> Result<Self, IssueError> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let (Some(line), None) = (lines.next(), lines.next()) else {
            return Err(IssueError::BadKeyFile(
                "expected exactly one line with the key".into(),
            ));
        };
        let seed = decode_hex_32(line).ok_or_else(|| {
            IssueError::BadKeyFile("the key line is not 64 hexadecimal digits".into())
        })?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The text of a key file, as [`SecretKey::from_file_text`] reads it.
    pub fn to_file_text(&self) -> String {
        let hex: String = self
            .0
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{FILE_HEADER}{hex}\n")
    }

    /// The public half, as it goes into a [`TrustedKey`].
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    // Digit by digit: `u8::from_str_radix` would also accept a leading '+'.
    let digits: Vec<u32> = text
        .chars()
        .map(|c| c.to_digit(16))
        .collect::<Option<_>>()?;
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = u8::try_from(pair[0] * 16 + pair[1]).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::VerifyingKey;

    #[test]
    fn committed_dev_secret_matches_the_dev_public_key() {
        assert_eq!(dev_secret_key().public_key(), DEV_KEY.public_key);
    }

    #[test]
    fn every_compiled_in_key_is_a_valid_point_with_a_unique_id() {
        let all = [CONFAB_VENDOR_2026, DEV_KEY];
        for key in all {
            VerifyingKey::from_bytes(&key.public_key).expect(key.id);
            check_key_id(key.id).unwrap();
        }
        assert_ne!(all[0].id, all[1].id);
        assert_ne!(all[0].public_key, all[1].public_key);
    }

    #[test]
    fn production_keys_never_include_the_dev_key() {
        assert!(PRODUCTION_KEYS.iter().all(|k| k.id != DEV_KEY_ID));
        assert!(
            PRODUCTION_KEYS
                .iter()
                .all(|k| k.public_key != DEV_KEY.public_key)
        );
    }

    #[test]
    fn dev_key_is_trusted_exactly_when_the_feature_is_on() {
        let trusted = trusted_keys().iter().any(|k| k.id == DEV_KEY_ID);
        assert_eq!(trusted, cfg!(feature = "dev-key"));
        assert!(trusted_keys().contains(&CONFAB_VENDOR_2026));
    }

    #[cfg(feature = "dev-key")]
    #[test]
    fn dev_table_is_the_production_table_plus_the_dev_key() {
        let mut expected = PRODUCTION_KEYS.to_vec();
        expected.push(DEV_KEY);
        assert_eq!(DEVELOPMENT_KEYS, expected.as_slice());
    }

    #[test]
    fn key_file_round_trips_and_ignores_comments() {
        let key = SecretKey::generate();
        let text = key.to_file_text();
        assert!(text.starts_with('#'));
        let back = SecretKey::from_file_text(&text).unwrap();
        assert_eq!(back.public_key(), key.public_key());
    }

    #[test]
    fn key_file_with_no_key_two_keys_or_bad_hex_is_refused() {
        let line = "ab".repeat(32);
        for text in [
            "# only a comment\n".to_owned(),
            format!("{line}\n{line}\n"),
            "zz".repeat(32),
            "ab".repeat(31),
            format!("+f{}", "ab".repeat(31)),
        ] {
            assert!(
                matches!(
                    SecretKey::from_file_text(&text),
                    Err(IssueError::BadKeyFile(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let key = SecretKey::generate();
        let hex: String = key
            .0
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex), "{shown}");
        assert!(shown.contains("public_key"));
    }

    #[test]
    fn key_ids_must_be_plain() {
        assert!(check_key_id("confab-vendor-2026").is_ok());
        for bad in ["", "Confab", "a b", "x\u{1b}[2J", &"a".repeat(65)] {
            assert!(check_key_id(bad).is_err(), "{bad:?}");
        }
    }
}
