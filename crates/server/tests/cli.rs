//! The `confab-server` binary as a script or an operator uses it.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use confab_proto::{Health, HealthStatus, ReadyFile};

const BIN: &str = env!("CARGO_BIN_EXE_confab-server");

fn spawn(data_dir: &Path, ready: &Path, extra: &[&str]) -> Child {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--ready-file"])
        .arg(ready)
        .args(extra)
        .env_remove("CONFAB_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("confab-server starts")
}

fn wait_ready(child: &mut Child, ready: &Path) -> ReadyFile {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            return serde_json::from_str(&text).expect("ready file is JSON");
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited before it was ready: {status}");
        }
        assert!(Instant::now() < deadline, "no ready file after 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("server still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM failed");
}

#[test]
fn serves_health_and_welcome_then_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let ready_path = dir.path().join("ready.json");
    let mut child = spawn(
        &dir.path().join("data"),
        &ready_path,
        &["--media-port", "0"],
    );
    let ready = wait_ready(&mut child, &ready_path);
    assert!(
        ready.http.starts_with("http://127.0.0.1:"),
        "{}",
        ready.http
    );
    assert_ne!(ready.media_udp, 0, "the real media port is reported");

    let health: Health = ureq::get(&format!("{}/api/health", ready.http))
        .call()
        .expect("health answers")
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert!(health.database_ok);

    let page = ureq::get(&format!("{}/", ready.http))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("Confab"));

    // The media port is really held: a second bind on it must fail.
    let clash = std::net::UdpSocket::bind(("127.0.0.1", ready.media_udp));
    assert!(clash.is_err(), "media UDP port is bound by the server");

    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "clean exit on SIGTERM, got {status}");
    assert!(
        dir.path().join("data/confab.sqlite3").exists(),
        "database created in the data dir"
    );
}

#[test]
fn a_busy_port_is_a_clear_error_and_a_failing_exit() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", &addr, "--media-port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on TCP {addr}")),
        "stderr: {stderr}"
    );
}

#[test]
fn environment_variables_configure_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let ready_path = dir.path().join("ready.json");
    let mut child = Command::new(BIN)
        .env("CONFAB_DATA_DIR", dir.path().join("env-data"))
        .env("CONFAB_LISTEN", "127.0.0.1:0")
        .env("CONFAB_MEDIA_PORT", "0")
        .env("CONFAB_READY_FILE", &ready_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready = wait_ready(&mut child, &ready_path);
    assert!(ready.http.starts_with("http://127.0.0.1:"));
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    assert!(dir.path().join("env-data/confab.sqlite3").exists());
}

fn set_password(data_dir: &Path, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(["admin", "set-password", "--data-dir"])
        .arg(data_dir)
        .env_remove("CONFAB_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Starts the server, reads its stdout until the ready file appears, and
/// stops it: what an operator sees in the console.
fn first_lines(data_dir: &Path) -> String {
    use std::io::Read;
    let ready_path = data_dir.with_extension("ready.json");
    let _ = std::fs::remove_file(&ready_path);
    let mut child = spawn(data_dir, &ready_path, &["--media-port", "0"]);
    wait_ready(&mut child, &ready_path);
    sigterm(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn first_start_prints_a_setup_link_until_a_password_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = first_lines(&data);
    let link = out
        .lines()
        .find_map(|l| l.strip_prefix("Admin set-up: "))
        .unwrap_or_else(|| panic!("no set-up line in:\n{out}"));
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    assert!(link.contains("/admin/setup?token="), "{link}");

    let done = set_password(&data, "a long admin password\n");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("admin password is set"));
    let out = first_lines(&data);
    assert!(!out.contains("Admin set-up"), "{out}");
}

#[test]
fn set_password_refuses_short_or_missing_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let short = set_password(dir.path(), "short\n");
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("has 5 characters; use at least 10"),
        "{stderr}"
    );

    let empty = set_password(dir.path(), "");
    assert!(!empty.status.success());
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no password on standard input"));
}
