//! Shared harness for Confab's end-to-end tests: locating built binaries,
//! per-test output folders, child processes that die with the test, and a
//! private X server for window tests.

pub mod app;
pub mod relay;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `<workspace>/test-output/<test>/`, emptied for this run. Screenshots and
/// logs that a person should look at go here.
pub fn output_dir(test: &str) -> PathBuf {
    let dir = workspace_root().join("test-output").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test output folder");
    dir
}

/// Path of a binary built into the same profile folder as this test
/// (`<target>/debug/`), or a clear panic saying how to build it.
pub fn built_binary(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // <target>/debug/deps/<test>-<hash> -> <target>/debug/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test runs from <target>/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build -p {package}` first (the README's test command does)",
        path.display()
    );
    path
}

/// Finds a program on PATH or in cargo's install folder.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed when the guard drops, so a failing test leaves
/// nothing running.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
}

impl ChildGuard {
    /// Starts `command` in a process group of its own, so that dropping
    /// the guard also ends what it started (tauri-driver's WebKitWebDriver
    /// outlived it otherwise, one per app session).
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        use std::os::unix::process::CommandExt;
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.into(),
            child,
        }
    }

    /// Panics if the process has already exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("poll child") {
            panic!("{} exited early: {status}", self.name);
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // The whole group; `kill` the program, as signalling a group from
        // Rust would take `unsafe` (libc), which the workspace forbids.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private Xvfb server on a display number nobody else uses.
#[derive(Debug)]
pub struct Xvfb {
    display: String,
    _process: ChildGuard,
}

impl Xvfb {
    /// Starts Xvfb with a 1280×800 screen and waits for its socket.
    pub fn start() -> Self {
        let xvfb = find_program("Xvfb").expect(
            "Xvfb is not installed; the README's test command installs it (Debian package xvfb)",
        );
        // Different test processes start from different numbers, and a
        // number whose socket exists is skipped, so parallel runs coexist.
        let first = 100 + std::process::id() % 400;
        for n in first..first + 50 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let mut process = ChildGuard::spawn(
                "Xvfb",
                Command::new(&xvfb)
                    .arg(format!(":{n}"))
                    .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    return Self {
                        display: format!(":{n}"),
                        _process: process,
                    };
                }
                if process.child.try_wait().ok().flatten().is_some() {
                    break; // lost a race for this number; try the next
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        panic!("could not start Xvfb on any display from :{first}");
    }

    /// Value for the `DISPLAY` variable.
    pub fn display(&self) -> &str {
        &self.display
    }
}
