//! The licence file: a signed envelope around the exact payload bytes.
//!
//! ```json
//! {"format": 1, "key_id": "…", "payload": "<base64url>", "signature": "<base64url>"}
//! ```
//!
//! The signature covers the payload's bytes as they are, so no JSON
//! canonicalisation is needed: the verifier checks the bytes it was given and
//! parses them only afterwards. docs/licence.md describes the format in full.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{IssueError, LicenceError};
use crate::keys::{SecretKey, TrustedKey, check_key_id, trusted_keys};

/// The only envelope format this crate reads and writes.
pub const FORMAT: u64 = 1;

/// Licence files are a few hundred bytes; anything far larger is not one, and
/// refusing it early keeps a stray upload from being parsed at all.
const MAX_FILE_BYTES: usize = 64 * 1024;

/// What the vendor signs. Unknown fields are ignored when reading, so a later
/// vendor tool can add fields that older servers skip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub licence_id: String,
    pub licensee: String,
    /// Concurrent connections allowed (the PBX's "lines"). At least 1.
    pub seats: u32,
    pub issued_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// A licence whose signature was checked against a trusted key and which is
/// valid at the time it was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    pub id: String,
    pub licensee: String,
    pub seats: u32,
    pub issued_at: Timestamp,
    pub not_before: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// The trusted key that signed it.
    pub key_id: String,
}

/// The contents of a licence file read WITHOUT checking its signature or
/// dates, for the vendor tool to show. Never grant lines from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedLicence {
    pub format: u64,
    pub key_id: String,
    pub payload: Payload,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: u64,
    key_id: String,
    payload: String,
    signature: String,
}

/// An envelope with its base64 decoded, before any trust decision.
struct Decoded {
    key_id: String,
    payload: Vec<u8>,
    signature: Signature,
}

/// Checks a licence file against the keys this build trusts (see
/// [`trusted_keys`]) and its dates against `now`.
///
/// Call it again when the licence's dates may have changed the answer
/// ([`crate::LicenceStatus::next_change`]); a licence is only valid at a time.
pub fn verify(file: &[u8], now: Timestamp) -> Result<Licence, LicenceError> {
    verify_with(file, now, trusted_keys())
}

/// [`verify`] against an explicit key table, so tests can check what a build
/// with a different table would do. Not public: the table is a build decision.
pub(crate) fn verify_with(
    file: &[u8],
    now: Timestamp,
    keys: &[TrustedKey],
) -> Result<Licence, LicenceError> {
    let decoded = decode(file)?;
    let key = keys
        .iter()
        .find(|k| k.id == decoded.key_id)
        .ok_or_else(|| LicenceError::UnknownKey(decoded.key_id.clone()))?;
    let public = VerifyingKey::from_bytes(&key.public_key)
        .expect("compiled-in public keys are valid points; checked by a test");
    // `verify_strict` also refuses the malleable and small-order forms that
    // plain Ed25519 verification lets through.
    public
        .verify_strict(&decoded.payload, &decoded.signature)
        .map_err(|_| LicenceError::BadSignature)?;
    let payload = parse_payload(&decoded.payload)?;
    check_terms(&payload, now)?;
    Ok(Licence {
        id: payload.licence_id,
        licensee: payload.licensee,
        seats: payload.seats,
        issued_at: payload.issued_at,
        not_before: payload.not_before,
        expires_at: payload.expires_at,
        key_id: decoded.key_id,
    })
}

/// Reads a licence file without checking its signature or dates.
pub fn read_unverified(file: &[u8]) -> Result<UnverifiedLicence, LicenceError> {
    let decoded = decode(file)?;
    Ok(UnverifiedLicence {
        format: FORMAT,
        payload: parse_payload(&decoded.payload)?,
        key_id: decoded.key_id,
    })
}

fn check_terms(payload: &Payload, now: Timestamp) -> Result<(), LicenceError> {
    if payload.seats == 0 {
        return Err(LicenceError::ZeroSeats);
    }
    if let Some(not_before) = payload.not_before
        && now < not_before
    {
        return Err(LicenceError::NotYetValid { not_before });
    }
    if let Some(expires_at) = payload.expires_at
        && now >= expires_at
    {
        return Err(LicenceError::Expired { expires_at });
    }
    Ok(())
}

fn malformed(reason: impl Into<String>) -> LicenceError {
    LicenceError::Malformed(reason.into())
}

fn decode(file: &[u8]) -> Result<Decoded, LicenceError> {
    if file.len() > MAX_FILE_BYTES {
        return Err(malformed(format!(
            "the file is {} bytes; a licence is under {MAX_FILE_BYTES}",
            file.len()
        )));
    }
    let value: serde_json::Value =
        serde_json::from_slice(file).map_err(|e| malformed(format!("not JSON: {e}")))?;
    // The format is read on its own first: a future format may have other
    // fields, and its reader deserves "unsupported format", not "unknown field".
    let format = value
        .as_object()
        .ok_or_else(|| malformed("not a JSON object"))?
        .get("format")
        .ok_or_else(|| malformed("no `format` field"))?
        .as_u64()
        .ok_or_else(|| malformed("`format` is not a whole number"))?;
    if format != FORMAT {
        return Err(LicenceError::UnsupportedFormat(format));
    }
    let envelope: Envelope = serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
    let payload = URL_SAFE_NO_PAD
        .decode(&envelope.payload)
        .map_err(|e| malformed(format!("`payload` is not base64url without padding: {e}")))?;
    let signature = URL_SAFE_NO_PAD
        .decode(&envelope.signature)
        .map_err(|e| malformed(format!("`signature` is not base64url without padding: {e}")))?;
    let signature = Signature::from_slice(&signature).map_err(|_| {
        malformed(format!(
            "`signature` is {} bytes; an Ed25519 signature is 64",
            signature.len()
        ))
    })?;
    Ok(Decoded {
        key_id: envelope.key_id,
        payload,
        signature,
    })
}

fn parse_payload(bytes: &[u8]) -> Result<Payload, LicenceError> {
    serde_json::from_slice(bytes).map_err(|e| malformed(format!("payload: {e}")))
}

/// Signs `payload` with `key` (named `key_id` in the file) and returns the
/// licence file's bytes.
///
/// Refuses a payload that could never be valid: no seats, or an expiry that
/// is not after its start.
pub fn sign(key: &SecretKey, key_id: &str, payload: &Payload) -> Result<Vec<u8>, IssueError> {
    check_key_id(key_id)?;
    if payload.seats == 0 {
        return Err(IssueError::ZeroSeats);
    }
    if let Some(expires_at) = payload.expires_at {
        let starts_at = payload.not_before.unwrap_or(payload.issued_at);
        if expires_at <= starts_at {
            return Err(IssueError::EndsBeforeStart {
                starts_at,
                expires_at,
            });
        }
    }
    let bytes = serde_json::to_vec(payload)
        .expect("a payload of strings, numbers and times always serializes");
    Ok(sign_bytes(key, key_id, &bytes))
}

/// Wraps exact payload bytes in a signed envelope, with no checks, so tests
/// can produce any signed content (including payloads `sign` refuses).
pub(crate) fn sign_bytes(key: &SecretKey, key_id: &str, payload: &[u8]) -> Vec<u8> {
    let envelope = Envelope {
        format: FORMAT,
        key_id: key_id.to_owned(),
        payload: URL_SAFE_NO_PAD.encode(payload),
        signature: URL_SAFE_NO_PAD.encode(key.sign(payload)),
    };
    let mut file =
        serde_json::to_vec_pretty(&envelope).expect("an envelope of strings always serializes");
    file.push(b'\n');
    file
}

/// A fresh random licence id such as `CL-3F2A-9C1B-07DE-44A0`.
pub fn new_licence_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    let groups: Vec<String> = bytes
        .chunks_exact(2)
        .map(|pair| format!("{:02X}{:02X}", pair[0], pair[1]))
        .collect();
    format!("CL-{}", groups.join("-"))
}

#[cfg(test)]
mod tests;
