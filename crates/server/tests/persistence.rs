//! Nothing the admin creates lives only in memory: a restart on the same
//! data directory keeps the admin password, every meeting and the licence.

use std::path::Path;

mod common;

use common::dev_licence;
use confab_proto::admin::{LoginResponse, MeetingDetails, MeetingList};
use confab_server::{Config, RunningServer};

fn config(data_dir: &Path) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        media_port: 0,
        ..Config::defaults().unwrap()
    }
}

fn start(runtime: &tokio::runtime::Runtime, data_dir: &Path) -> RunningServer {
    runtime
        .block_on(confab_server::start(&config(data_dir)))
        .expect("server starts")
}

fn login(base: &str, password: &str) -> LoginResponse {
    ureq::post(&format!("{base}/api/admin/login"))
        .send_json(serde_json::json!({ "password": password }))
        .expect("login succeeds")
        .body_mut()
        .read_json()
        .unwrap()
}

fn create(base: &str, token: &str, body: serde_json::Value) -> MeetingDetails {
    ureq::post(&format!("{base}/api/admin/meetings"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(body)
        .expect("meeting created")
        .body_mut()
        .read_json()
        .unwrap()
}

fn list(base: &str, token: &str) -> Vec<MeetingDetails> {
    let list: MeetingList = ureq::get(&format!("{base}/api/admin/meetings"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("list answers")
        .body_mut()
        .read_json()
        .unwrap();
    list.meetings
}

#[test]
fn meetings_the_licence_and_the_admin_password_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let password = "a long admin password";

    let first = start(&runtime, dir.path());
    let link = first
        .admin_setup_link()
        .expect("a fresh server offers a setup link")
        .to_owned();
    let base = first.base_url();
    let token = link.rsplit('=').next().unwrap();
    let setup: LoginResponse = ureq::post(&format!("{base}/api/admin/setup"))
        .send_json(serde_json::json!({ "token": token, "password": password }))
        .expect("setup succeeds")
        .body_mut()
        .read_json()
        .unwrap();
    let instant = create(
        &base,
        &setup.token,
        serde_json::json!({ "title": "Open room" }),
    );
    let weekly = create(
        &base,
        &setup.token,
        serde_json::json!({
            "title": "Weekly sync", "passcode": "2468", "public": true,
            "starts_at": "2026-11-30T09:00:00Z", "duration_minutes": 30, "weekly": true
        }),
    );
    let before = list(&base, &setup.token);
    let licence = ureq::put(&format!("{base}/api/admin/licence"))
        .header("Authorization", &format!("Bearer {}", setup.token))
        .send(&dev_licence(12)[..])
        .expect("the licence installs");
    assert_eq!(licence.status(), 200);
    runtime.block_on(first.stop()).unwrap();

    let second = start(&runtime, dir.path());
    assert_eq!(
        second.admin_setup_link(),
        None,
        "no setup link once a password exists"
    );
    let base = second.base_url();
    let session = login(&base, password);
    let after = list(&base, &session.token);
    let strip = |list: &[MeetingDetails]| -> Vec<MeetingDetails> {
        // Links carry the port, which a restart on port 0 changes.
        list.iter()
            .map(|m| MeetingDetails {
                join_url: String::new(),
                invite_url: None,
                ..m.clone()
            })
            .collect()
    };
    assert_eq!(strip(&after), strip(&before));
    let codes: Vec<&str> = after.iter().map(|m| m.code.as_str()).collect();
    assert!(codes.contains(&instant.code.as_str()));
    assert!(codes.contains(&weekly.code.as_str()));
    let kept = after.iter().find(|m| m.code == weekly.code).unwrap();
    assert_eq!(kept.host_key, weekly.host_key);
    assert!(kept.weekly);
    assert_eq!(kept.passcode.as_deref(), Some("2468"));

    let licence: serde_json::Value = ureq::get(&format!("{base}/api/admin/licence"))
        .header("Authorization", &format!("Bearer {}", session.token))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(licence["lines"], 12, "{licence}");
    assert_eq!(
        runtime.block_on(async { second.signalling().hub().line_limit() }),
        12
    );

    let join_page = ureq::get(&format!("{base}/j/{}", weekly.code))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(join_page.contains("Weekly sync"));
    runtime.block_on(second.stop()).unwrap();
}
