use super::*;
use crate::keys::{DEV_KEY, DEV_KEY_ID, PRODUCTION_KEYS, dev_secret_key};

const DEV_ONLY: &[TrustedKey] = &[DEV_KEY];

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn terms() -> Payload {
    Payload {
        licence_id: "CL-TEST-0001".into(),
        licensee: "Acme Ltd".into(),
        seats: 10,
        issued_at: at("2026-01-10T12:00:00Z"),
        not_before: Some(at("2026-02-01T00:00:00Z")),
        expires_at: Some(at("2027-02-01T00:00:00Z")),
    }
}

fn now() -> Timestamp {
    at("2026-06-01T00:00:00Z")
}

fn issue(payload: &Payload) -> Vec<u8> {
    sign(&dev_secret_key(), DEV_KEY_ID, payload).unwrap()
}

fn envelope_of(file: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice(file).unwrap()
}

fn with_field(file: &[u8], name: &str, value: serde_json::Value) -> Vec<u8> {
    let mut envelope = envelope_of(file);
    envelope.insert(name.into(), value);
    serde_json::to_vec(&envelope).unwrap()
}

fn refusal(file: &[u8]) -> LicenceError {
    verify_with(file, now(), DEV_ONLY).unwrap_err()
}

#[test]
fn signed_licence_verifies_with_every_field() {
    let licence = verify_with(&issue(&terms()), now(), DEV_ONLY).unwrap();
    assert_eq!(
        licence,
        Licence {
            id: "CL-TEST-0001".into(),
            licensee: "Acme Ltd".into(),
            seats: 10,
            issued_at: at("2026-01-10T12:00:00Z"),
            not_before: Some(at("2026-02-01T00:00:00Z")),
            expires_at: Some(at("2027-02-01T00:00:00Z")),
            key_id: DEV_KEY_ID.into(),
        }
    );
}

#[test]
fn licence_without_dates_never_expires() {
    let payload = Payload {
        not_before: None,
        expires_at: None,
        ..terms()
    };
    let file = issue(&payload);
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(!text.contains("expires_at"), "absent dates are left out");
    verify_with(&file, at("2999-01-01T00:00:00Z"), DEV_ONLY).unwrap();
}

#[test]
fn tampered_payload_is_refused_as_changed_after_signing() {
    let file = issue(&terms());
    let payload = URL_SAFE_NO_PAD
        .decode(envelope_of(&file)["payload"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(payload).unwrap();
    let more_seats = text.replace("\"seats\":10", "\"seats\":90");
    assert_ne!(text, more_seats);
    let tampered = with_field(&file, "payload", URL_SAFE_NO_PAD.encode(more_seats).into());
    let err = refusal(&tampered);
    assert_eq!(err, LicenceError::BadSignature);
    assert!(err.to_string().contains("changed after it was signed"));
}

#[test]
fn tampered_signature_is_refused() {
    let file = issue(&terms());
    let mut signature = URL_SAFE_NO_PAD
        .decode(envelope_of(&file)["signature"].as_str().unwrap())
        .unwrap();
    signature[10] ^= 0x01;
    let tampered = with_field(&file, "signature", URL_SAFE_NO_PAD.encode(signature).into());
    assert_eq!(refusal(&tampered), LicenceError::BadSignature);
}

#[test]
fn licence_claiming_another_trusted_key_is_refused() {
    let other = SecretKey::generate();
    let keys = [
        DEV_KEY,
        TrustedKey {
            id: "other",
            public_key: other.public_key(),
        },
    ];
    let relabelled = with_field(&issue(&terms()), "key_id", "other".into());
    assert_eq!(
        verify_with(&relabelled, now(), &keys).unwrap_err(),
        LicenceError::BadSignature
    );
}

#[test]
fn malformed_json_is_refused_with_the_reason() {
    for (file, reason) in [
        (&b"{\"format\": 1,"[..], "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{\"key_id\": \"x\"}", "no `format`"),
        (b"{\"format\": \"one\"}", "whole number"),
        (b"{\"format\": 1, \"key_id\": \"x\"}", "missing field"),
    ] {
        match refusal(file) {
            LicenceError::Malformed(text) => assert!(text.contains(reason), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn unknown_envelope_fields_are_refused() {
    let file = with_field(&issue(&terms()), "seats", 99.into());
    assert!(matches!(refusal(&file), LicenceError::Malformed(t) if t.contains("unknown field")));
}

#[test]
fn wrong_base64_is_refused() {
    let file = issue(&terms());
    let payload = envelope_of(&file)["payload"].as_str().unwrap().to_owned();
    let plus = format!("{}+{}", &payload[..5], &payload[6..]);
    for bad in [format!("{payload}=="), plus, "!!!!".into()] {
        let damaged = with_field(&file, "payload", bad.into());
        assert!(matches!(refusal(&damaged), LicenceError::Malformed(t) if t.contains("base64url")),);
    }
    let damaged = with_field(&file, "signature", "not*base64".into());
    assert!(matches!(refusal(&damaged), LicenceError::Malformed(t) if t.contains("`signature`")));
}

#[test]
fn signature_of_the_wrong_length_is_malformed() {
    let short = with_field(
        &issue(&terms()),
        "signature",
        URL_SAFE_NO_PAD.encode([7u8; 63]).into(),
    );
    assert!(matches!(refusal(&short), LicenceError::Malformed(t) if t.contains("63 bytes")));
}

#[test]
fn unknown_key_id_is_refused_naming_the_key() {
    let file = sign_bytes(&SecretKey::generate(), "acme-2031", b"{}");
    assert_eq!(refusal(&file), LicenceError::UnknownKey("acme-2031".into()));
}

#[test]
fn unsupported_format_is_refused_even_with_other_fields() {
    let file = br#"{"format": 2, "keys": ["a", "b"], "body": "..."}"#;
    let err = refusal(file);
    assert_eq!(err, LicenceError::UnsupportedFormat(2));
    assert!(err.to_string().contains("format 2"));
}

#[test]
fn licence_before_not_before_is_not_yet_valid() {
    let file = issue(&terms());
    let start = at("2026-02-01T00:00:00Z");
    let just_before = start - jiff::SignedDuration::from_secs(1);
    assert_eq!(
        verify_with(&file, just_before, DEV_ONLY).unwrap_err(),
        LicenceError::NotYetValid { not_before: start }
    );
    verify_with(&file, start, DEV_ONLY).expect("valid from not_before on");
}

#[test]
fn licence_at_or_after_expires_at_is_expired() {
    let file = issue(&terms());
    let end = at("2027-02-01T00:00:00Z");
    verify_with(&file, end - jiff::SignedDuration::from_secs(1), DEV_ONLY)
        .expect("valid until the last second");
    let err = verify_with(&file, end, DEV_ONLY).unwrap_err();
    assert_eq!(err, LicenceError::Expired { expires_at: end });
    assert!(err.to_string().contains("2027-02-01 00:00 UTC"), "{err}");
}

#[test]
fn signed_licence_with_zero_seats_is_refused() {
    let payload = Payload {
        seats: 0,
        ..terms()
    };
    let file = sign_bytes(
        &dev_secret_key(),
        DEV_KEY_ID,
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert_eq!(refusal(&file), LicenceError::ZeroSeats);
}

#[test]
fn signed_payload_that_does_not_parse_is_malformed() {
    for payload in [
        &b"not json"[..],
        br#"{"licence_id": "x"}"#,
        br#"{"seats": -1}"#,
    ] {
        let file = sign_bytes(&dev_secret_key(), DEV_KEY_ID, payload);
        assert!(matches!(refusal(&file), LicenceError::Malformed(t) if t.starts_with("payload")));
    }
}

#[test]
fn unknown_payload_fields_are_ignored_for_forward_compatibility() {
    let mut payload = serde_json::to_value(terms()).unwrap();
    payload["features"] = serde_json::json!(["recording"]);
    let file = sign_bytes(
        &dev_secret_key(),
        DEV_KEY_ID,
        &serde_json::to_vec(&payload).unwrap(),
    );
    assert_eq!(verify_with(&file, now(), DEV_ONLY).unwrap().seats, 10);
}

#[test]
fn oversized_file_is_refused_before_parsing() {
    let file = vec![b' '; MAX_FILE_BYTES + 1];
    assert!(matches!(refusal(&file), LicenceError::Malformed(t) if t.contains("bytes")));
}

#[test]
fn dev_licence_is_refused_by_the_production_key_table() {
    let file = issue(&terms());
    let err = verify_with(&file, now(), PRODUCTION_KEYS).unwrap_err();
    assert_eq!(err, LicenceError::UnknownKey(DEV_KEY_ID.into()));
    assert!(err.to_string().contains("development builds"), "{err}");
}

#[cfg(feature = "dev-key")]
#[test]
fn dev_licence_is_accepted_by_a_dev_key_build() {
    assert_eq!(verify(&issue(&terms()), now()).unwrap().key_id, DEV_KEY_ID);
}

#[cfg(not(feature = "dev-key"))]
#[test]
fn dev_licence_is_refused_by_a_build_without_the_dev_key_feature() {
    assert_eq!(
        verify(&issue(&terms()), now()).unwrap_err(),
        LicenceError::UnknownKey(DEV_KEY_ID.into())
    );
}

#[test]
fn read_unverified_shows_a_tampered_payload_without_trusting_it() {
    let file = with_field(&issue(&terms()), "key_id", "acme-2031".into());
    let shown = read_unverified(&file).unwrap();
    assert_eq!(shown.key_id, "acme-2031");
    assert_eq!(shown.payload, terms());
    assert!(refusal(&file) == LicenceError::UnknownKey("acme-2031".into()));
}

#[test]
fn sign_refuses_payloads_that_could_never_be_valid() {
    let key = dev_secret_key();
    let zero = Payload {
        seats: 0,
        ..terms()
    };
    assert_eq!(sign(&key, DEV_KEY_ID, &zero), Err(IssueError::ZeroSeats));
    let backwards = Payload {
        expires_at: Some(at("2026-01-01T00:00:00Z")),
        ..terms()
    };
    assert!(matches!(
        sign(&key, DEV_KEY_ID, &backwards),
        Err(IssueError::EndsBeforeStart { .. })
    ));
    let before_issue = Payload {
        not_before: None,
        expires_at: Some(at("2026-01-10T12:00:00Z")),
        ..terms()
    };
    assert!(sign(&key, DEV_KEY_ID, &before_issue).is_err());
    assert!(matches!(
        sign(&key, "Bad Id", &terms()),
        Err(IssueError::BadKeyId(_))
    ));
}

#[test]
fn licence_ids_are_random_and_readable() {
    let a = new_licence_id();
    assert_eq!(a.len(), "CL-0000-0000-0000-0000".len());
    assert!(a.starts_with("CL-"));
    assert_ne!(a, new_licence_id());
}
