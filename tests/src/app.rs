//! The desktop app under WebDriver: a private Xvfb, tauri-driver (which
//! runs Debian's WebKitWebDriver, which launches the app) and a fantoccini
//! session, with the app's data kept under the test's output folder.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{ChildGuard, Xvfb, built_binary, find_program, free_port, wait_for_port};

/// How long the UI gets to show something.
pub const UI_TIMEOUT: Duration = Duration::from_secs(60);

/// A running app and the WebDriver session driving it.
#[derive(Debug)]
pub struct AppSession {
    pub client: Client,
    pub home: PathBuf,
    driver: ChildGuard,
    x: Xvfb,
}

impl AppSession {
    /// Starts the app with `env` added to its environment (for example
    /// `CONFAB_FAKE_DEVICES`); its data goes to `<out>/<name>-home`.
    pub async fn start(out: &Path, name: &str, env: &[(&str, &str)]) -> Self {
        let app = built_binary("confab", "confab-app");
        let driver = find_program("tauri-driver").expect(
            "tauri-driver is not installed; the README's test command runs \
             `cargo install tauri-driver --locked`",
        );
        assert!(
            find_program("WebKitWebDriver").is_some(),
            "WebKitWebDriver is not installed (Debian package webkit2gtk-driver)"
        );
        let x = Xvfb::start();
        let home = out.join(format!("{name}-home"));
        std::fs::create_dir_all(&home).unwrap();
        let (port, native_port) = (free_port(), free_port());
        let log = std::fs::File::create(out.join(format!("{name}-tauri-driver.log"))).unwrap();
        let mut command = Command::new(driver);
        command
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("DISPLAY", x.display())
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("CONFAB_FAKE_DEVICES")
            // The app keeps its data under the test's folder, not the user's.
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let mut driver = ChildGuard::spawn("tauri-driver", &mut command);
        // tauri-driver listens before the WebKitWebDriver it starts does, and
        // a session request in between fails: wait for both.
        wait_for_port(port, Duration::from_secs(30));
        wait_for_port(native_port, Duration::from_secs(30));
        driver.assert_running();

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session opens the app");
        Self {
            client,
            home,
            driver,
            x,
        }
    }

    /// The X display the app runs on, e.g. `:123`.
    pub fn display(&self) -> &str {
        self.x.display()
    }

    /// The text of the first element matching `css`, waiting for it.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} appears: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Waits until the script returns something other than null or false.
    pub async fn wait_for_script(&self, what: &str, script: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + UI_TIMEOUT;
        loop {
            let value = self.client.execute(script, vec![]).await.unwrap();
            if !value.is_null() && value != serde_json::Value::Bool(false) {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens a screen by its hash route, e.g. `#/host`.
    pub async fn go(&self, hash: &str) {
        self.client
            .execute(&format!("location.hash = {hash:?}; return true;"), vec![])
            .await
            .unwrap();
    }

    /// Saves a screenshot once two frames have painted (WebKit snapshots
    /// the last painted frame), checks it is a PNG of the window, and
    /// returns its path.
    pub async fn screenshot(&self, path: &Path) -> PathBuf {
        self.client
            .execute_async(
                "const done = arguments[0]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .expect("the page paints frames");
        let png = self.client.screenshot().await.expect("screenshot");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "screenshot is a PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert!(
            width >= 640 && height >= 480,
            "window is at least its minimum size, got {width}x{height}"
        );
        std::fs::write(path, &png).unwrap();
        eprintln!("screenshot: {} ({width}x{height})", path.display());
        path.to_owned()
    }

    /// Closes the session (and so the app), checking the driver survived.
    pub async fn close(mut self) {
        self.client
            .clone()
            .close()
            .await
            .expect("the session closes the app");
        self.driver.assert_running();
    }
}
