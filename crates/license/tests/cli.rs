//! The `confab-license` vendor tool as the vendor uses it: keygen, issue,
//! inspect. Runs in both builds; what "accepted" means depends on whether
//! this build has the `dev-key` feature.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const BIN: &str = env!("CARGO_BIN_EXE_confab-license");
const DEV_BUILD: bool = cfg!(feature = "dev-key");

fn dev_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dev-key/confab-dev.secret")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("confab-license runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Issues a licence for Acme Ltd with the committed development key.
fn issue_dev(out: &Path, seats: &str, extra: &[&str]) -> Output {
    let key = dev_key();
    let mut args = vec![
        "issue",
        "--key",
        path(&key),
        "--key-id",
        "confab-dev",
        "--licensee",
        "Acme Ltd",
        "--seats",
        seats,
        "--out",
        path(out),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn keygen_writes_a_private_key_file_and_prints_only_the_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("vendor.secret");
    let out = run(&["keygen", "--out", path(&secret)]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("Suggested key id: confab-vendor-"),
        "{shown}"
    );
    assert!(shown.contains("public_key: ["), "{shown}");

    let file = std::fs::read_to_string(&secret).unwrap();
    let hex = file.lines().find(|l| !l.starts_with('#')).unwrap();
    assert_eq!(hex.len(), 64);
    assert!(!shown.contains(hex), "the secret is never printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let again = run(&["keygen", "--out", path(&secret)]);
    assert!(
        !again.status.success(),
        "an existing key is never overwritten"
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), file);
}

#[test]
fn issue_then_inspect_shows_the_fields_and_whether_this_build_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let licence = dir.path().join("acme.licence");
    let issued = issue_dev(
        &licence,
        "10",
        &["--expires", "2999-01-01", "--id", "CL-ACME-1"],
    );
    assert!(issued.status.success(), "{}", text(&issued));
    assert!(text(&issued).contains("Wrote licence CL-ACME-1 for Acme Ltd (10 lines"));

    let out = run(&["inspect", path(&licence)]);
    let shown = text(&out);
    for field in [
        "key id      confab-dev",
        "licence id  CL-ACME-1",
        "licensee    Acme Ltd",
        "seats       10",
        "expires at  2999-01-01T00:00:00Z",
        "not before  -",
    ] {
        assert!(shown.contains(field), "{field} in {shown}");
    }
    if DEV_BUILD {
        assert!(out.status.success(), "{shown}");
        assert!(
            shown.contains("Accepted by this build: yes, 10 lines now."),
            "{shown}"
        );
    } else {
        assert!(!out.status.success(), "{shown}");
        assert!(shown.contains("only development builds"), "{shown}");
    }
}

#[test]
fn inspect_of_a_tampered_file_says_it_was_changed_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let licence = dir.path().join("acme.licence");
    assert!(issue_dev(&licence, "10", &[]).status.success());

    // One byte of the payload: 10 seats become 90.
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&licence).unwrap()).unwrap();
    let mut payload = URL_SAFE_NO_PAD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let at = payload
        .windows(10)
        .position(|w| w == b"\"seats\":10")
        .expect("seats in payload");
    payload[at + 8] = b'9';
    envelope["payload"] = URL_SAFE_NO_PAD.encode(&payload).into();
    std::fs::write(&licence, serde_json::to_vec(&envelope).unwrap()).unwrap();

    let out = run(&["inspect", path(&licence)]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(
        shown.contains("seats       90"),
        "shows what the file claims: {shown}"
    );
    if DEV_BUILD {
        assert!(shown.contains("changed after it was signed"), "{shown}");
    } else {
        assert!(shown.contains("Accepted by this build: no"), "{shown}");
    }
}

#[test]
fn expired_licence_is_reported_with_its_date() {
    let dir = tempfile::tempdir().unwrap();
    let licence = dir.path().join("old.licence");
    let issued = issue_dev(
        &licence,
        "10",
        &["--not-before", "2020-01-01", "--expires", "2021-01-01"],
    );
    assert!(issued.status.success(), "{}", text(&issued));
    let out = run(&["inspect", path(&licence)]);
    assert!(!out.status.success());
    if DEV_BUILD {
        assert!(
            text(&out).contains("expired on 2021-01-01 00:00 UTC"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn licence_from_an_untrusted_key_is_issued_with_a_warning_and_not_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("new.secret");
    assert!(run(&["keygen", "--out", path(&secret)]).status.success());
    let licence = dir.path().join("new.licence");
    let issued = run(&[
        "issue",
        "--key",
        path(&secret),
        "--key-id",
        "confab-vendor-2099",
        "--licensee",
        "Acme",
        "--seats",
        "3",
        "--out",
        path(&licence),
    ]);
    assert!(issued.status.success(), "{}", text(&issued));
    assert!(text(&issued).contains("warning: this build does not trust key"));
    let out = run(&["inspect", path(&licence)]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("which this build of Confab does not trust"),
        "{}",
        text(&out)
    );
}

#[test]
fn issue_refuses_a_secret_that_is_not_the_named_key() {
    let dir = tempfile::tempdir().unwrap();
    let licence = dir.path().join("wrong.licence");
    let key = dev_key();
    let out = run(&[
        "issue",
        "--key",
        path(&key),
        "--key-id",
        "confab-vendor-2026",
        "--licensee",
        "Acme",
        "--seats",
        "3",
        "--out",
        path(&licence),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not the key this build knows"),
        "{}",
        text(&out)
    );
    assert!(!licence.exists());
}

#[test]
fn issue_refuses_zero_seats_and_an_expiry_before_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let licence = dir.path().join("bad.licence");
    let out = issue_dev(&licence, "0", &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("at least one seat"), "{}", text(&out));
    let out = issue_dev(
        &licence,
        "10",
        &["--not-before", "2030-01-01", "--expires", "2029-01-01"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("expire"), "{}", text(&out));
    assert!(!licence.exists());
}

#[test]
fn inspect_of_a_file_that_is_not_a_licence_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let out = run(&["inspect", path(&file)]);
    assert!(!out.status.success());
    assert!(text(&out).contains("not JSON"), "{}", text(&out));
}
