//! A private PulseAudio server with a null sink and a null source, so cpal
//! opens real, clocked devices on a machine without a sound card.
//!
//! libpulse and ALSA's pulse plugin find the server through `PULSE_SERVER`,
//! which a test cannot set in its own (multi-threaded) process without
//! `unsafe`. So [`run_with_pulse`] starts the server, then runs the same test
//! again in a child process of this test binary with the variable set, and
//! passes or fails with it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child so it runs the test body instead of starting a server.
const CHILD: &str = "CONFAB_PULSE_CHILD";

/// Far more than any test here needs (about 3 s each).
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct PulseServer {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl PulseServer {
    /// Starts `pulseaudio` with its own HOME and runtime directory and
    /// waits for its socket.
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (home, runtime) = (dir.path().join("home"), dir.path().join("run"));
        for d in [&home, &runtime] {
            fs::create_dir_all(d).expect("create dir");
        }
        let socket = runtime.join("native");
        let script = dir.path().join("default.pa");
        fs::write(&script, startup_script(&socket)).expect("write script");
        let log = fs::File::create(dir.path().join("pulse.log")).expect("log file");
        let child = Command::new("pulseaudio")
            .args(["--system=false", "--exit-idle-time=-1", "--daemonize=no"])
            .args(["--log-target=stderr", "--use-pid-file=false", "-n", "-F"])
            .arg(&script)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("`pulseaudio` did not start: is the `pulseaudio` package installed?");
        let server = Self { child, dir, socket };
        server.wait_for_socket();
        server
    }

    fn wait_for_socket(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "PulseAudio did not open {}; its log:\n{}",
                self.socket.display(),
                fs::read_to_string(self.dir.path().join("pulse.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The value for `PULSE_SERVER`.
    pub(crate) fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn startup_script(socket: &Path) -> String {
    format!(
        "load-module module-native-protocol-unix auth-anonymous=1 socket={}\n\
         load-module module-null-sink sink_name=confab_sink rate=48000 channels=2\n\
         load-module module-null-source source_name=confab_source rate=48000 channels=1\n\
         set-default-sink confab_sink\n\
         set-default-source confab_source\n",
        socket.display()
    )
}

/// Runs `body` with PulseAudio as the system's sound: in a child process of
/// this test binary that runs only the test `name`.
pub(crate) fn run_with_pulse(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD).is_some() {
        body();
        return;
    }
    let server = PulseServer::start();
    let exe = std::env::current_exe().expect("test binary path");
    let (out_path, err_path) = (server.dir.path().join("out"), server.dir.path().join("err"));
    let mut child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("PULSE_SERVER", server.address())
        .env("HOME", server.home())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run the test in a child process");
    // A stuck audio stream must fail the test, not hang the suite.
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    println!("--- child stdout ---\n{stdout}\n--- child stderr ---\n{stderr}");
    let status =
        status.unwrap_or_else(|| panic!("{name} hung for {CHILD_TIMEOUT:?} under PulseAudio"));
    assert!(status.success(), "the test failed under PulseAudio");
    // Guards against a name that matched no test, which would "pass".
    assert!(stdout.contains("1 passed"), "the child did not run {name}");
}
