//! The real `confab` desktop binary opens a window whose UI renders and
//! talks to Rust: driven under Xvfb through tauri-driver and WebKitWebDriver.

use std::process::Command;
use std::time::Duration;

use confab_tests::{
    ChildGuard, Xvfb, built_binary, find_program, free_port, output_dir, wait_for_port,
};
use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const UI_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_window_renders_the_home_screen_and_answers_commands() {
    let out = output_dir("app_window");
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
    let home = tempfile_dir(&out);
    let port = free_port();
    let native_port = free_port();
    let log = std::fs::File::create(out.join("tauri-driver.log")).unwrap();
    let mut driver_process = ChildGuard::spawn(
        "tauri-driver",
        Command::new(driver)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .env("DISPLAY", x.display())
            .env_remove("WAYLAND_DISPLAY")
            // The app keeps its data under the test's folder, not the user's.
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .stdout(log.try_clone().unwrap())
            .stderr(log),
    );
    // tauri-driver listens before the WebKitWebDriver it starts does, and a
    // session request in between fails: wait for both.
    wait_for_port(port, Duration::from_secs(30));
    wait_for_port(native_port, Duration::from_secs(30));
    driver_process.assert_running();

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

    // The version comes from the Rust side through a Tauri command, so
    // seeing it proves the page rendered and IPC works.
    let version = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("[data-testid=app-version]"))
        .await
        .expect("the home screen shows the app version")
        .text()
        .await
        .unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let title = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(title, "Confab");

    // The join box understands a messy code.
    let field = client.find(Locator::Id("meeting")).await.unwrap();
    field.send_keys("  KQZ rmtp WFA ").await.unwrap();
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let feedback = client
        .find(Locator::Id("join-feedback"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feedback.contains("kqz-rmtp-wfa"), "feedback: {feedback}");
    let typed = client
        .execute("return document.getElementById('meeting').value", vec![])
        .await
        .unwrap();
    assert_eq!(
        typed, "  KQZ rmtp WFA ",
        "the form stays on the page after Join"
    );

    // WebKit snapshots the last painted frame: let two frames paint first.
    client
        .execute_async(
            "const done = arguments[0]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await
        .expect("the page paints frames");
    let png = client.screenshot().await.expect("screenshot");
    let shot = out.join("home.png");
    std::fs::write(&shot, &png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "screenshot is a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(
        width >= 640 && height >= 480,
        "window is at least its minimum size, got {width}x{height}"
    );
    eprintln!("screenshot: {} ({width}x{height})", shot.display());

    client.close().await.expect("the session closes the app");
    driver_process.assert_running();
}

fn tempfile_dir(out: &std::path::Path) -> std::path::PathBuf {
    let dir = out.join("home");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
