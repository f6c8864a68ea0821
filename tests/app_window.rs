//! The real `confab` desktop binary opens a window whose UI renders and
//! talks to Rust: driven under Xvfb through tauri-driver and WebKitWebDriver,
//! with fake devices (`CONFAB_FAKE_DEVICES`) standing in for a camera and a
//! microphone.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use confab_media::VideoFrame;
use confab_media::synth::video::{Stamp, read_stamp};
use confab_tests::app::AppSession;
use confab_tests::output_dir;
use fantoccini::Locator;

/// One app at a time: two WebKit processes on two cores make timing noisy
/// for both, and the benchmark must run alone.
static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Reads a tile's pixels (the tile is `TILE`, replaced by a CSS selector)
/// through a 2D canvas copy, converts them to luma in the page (BT.601
/// studio range, as the shader's inverse), and returns them with the
/// canvas size and the RGB of one colour bar.
const READ_TILE: &str = r#"
const c = document.querySelector('TILE[data-has-picture=true] canvas');
if (!c) return null;
const off = document.createElement('canvas');
off.width = c.width; off.height = c.height;
const ctx = off.getContext('2d');
ctx.drawImage(c, 0, 0);
const d = ctx.getImageData(0, 0, c.width, c.height).data;
const y = new Uint8Array(c.width * c.height);
for (let i = 0; i < y.length; i++) {
  y[i] = Math.round(16 + 0.257 * d[4*i] + 0.504 * d[4*i+1] + 0.098 * d[4*i+2]);
}
let bin = '';
for (let i = 0; i < y.length; i += 8192) bin += String.fromCharCode.apply(null, y.subarray(i, i + 8192));
// The second of seven bars is yellow; sample it below the stamp band.
const px = (x, yy) => Array.from(d.slice(4 * (yy * c.width + x), 4 * (yy * c.width + x) + 3));
return { width: c.width, height: c.height, luma: btoa(bin),
         yellow: px(Math.floor(c.width * 1.5 / 7), Math.floor(c.height * 0.85)) };
"#;

/// The stamp the fake camera drew into the frame now on the preview canvas.
async fn preview_stamp(app: &AppSession) -> (Stamp, serde_json::Value) {
    tile_stamp(app, "[data-testid=preview-tile]", (1280, 720)).await
}

/// The stamp in the picture on the tile `css`, captured at `source` size.
/// The canvas is the picture scaled to its tile; scaling it back to the
/// captured size (nearest neighbour) puts the stamp's cells where the
/// reader expects them.
async fn tile_stamp(
    app: &AppSession,
    css: &str,
    source: (usize, usize),
) -> (Stamp, serde_json::Value) {
    let script = READ_TILE.replace("TILE", css);
    let shot = app
        .wait_for_script(&format!("a picture on {css}"), &script)
        .await;
    let (w, h) = (
        shot["width"].as_u64().unwrap() as usize,
        shot["height"].as_u64().unwrap() as usize,
    );
    let luma = base64::engine::general_purpose::STANDARD
        .decode(shot["luma"].as_str().unwrap())
        .unwrap();
    assert_eq!(luma.len(), w * h);
    let (sw, sh) = source;
    let mut frame = VideoFrame::black(sw as u32, sh as u32, Duration::ZERO).unwrap();
    let (y, _, _) = frame.planes_mut();
    for row in 0..sh {
        for col in 0..sw {
            y[row * sw + col] = luma[(row * h / sh) * w + col * w / sw];
        }
    }
    let stamp = read_stamp(&frame)
        .unwrap_or_else(|| panic!("{css} ({w}x{h}) shows the test pattern with a readable stamp"));
    (stamp, shot["yellow"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_window_shows_home_prejoin_with_a_live_preview_and_host_mode() {
    let _one = ONE_APP.lock().await;
    let out = output_dir("app_window");
    let app = AppSession::start(&out, "main", &[("CONFAB_FAKE_DEVICES", "1")]).await;

    // The version comes from the Rust side through a Tauri command, so
    // seeing it proves the page rendered and IPC works.
    assert_eq!(
        app.text("[data-testid=app-version]").await,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(app.text("h1").await, "Confab");
    app.screenshot(&out.join("home.png")).await;

    // The join box understands a messy code and opens the pre-join screen.
    let field = app.client.find(Locator::Id("meeting")).await.unwrap();
    field.send_keys("  KQZ rmtp WFA ").await.unwrap();
    app.client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title = app.text("[data-testid=prejoin-title]").await;
    assert_eq!(title, "Ready to join kqz-rmtp-wfa?");

    // The preview shows the fake camera's test pattern, drawn by WebGL from
    // frames that came over the frame socket, and its counter moves.
    let (first, yellow) = preview_stamp(&app).await;
    let rgb: Vec<u64> = yellow
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(
        rgb[0] > 150 && rgb[1] > 150 && rgb[2] < 80,
        "the second bar is yellow, got {rgb:?}"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (second, _) = preview_stamp(&app).await;
    assert!(
        second.frame_number > first.frame_number,
        "the frame counter advances: {} then {}",
        first.frame_number,
        second.frame_number
    );

    // The babbling microphone moves the level meter.
    app.wait_for_script(
        "the microphone level",
        "const b = document.querySelector('[data-testid=mic-level]'); \
         return b && parseFloat(b.style.width) > 0;",
    )
    .await;
    let cameras = app.text("[data-testid=camera-picker]").await;
    assert!(cameras.contains("Test pattern camera"), "{cameras}");
    app.screenshot(&out.join("prejoin.png")).await;

    // Turning the camera off shows that, and the choice is saved.
    app.client
        .find(Locator::Css("[data-testid=camera-toggle]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(app.text("[data-testid=camera-off]").await, "Camera is off");
    let settings = app.home.join("config/app.confab.desktop/settings.json");
    let saved = wait_for_file_containing(&settings, "\"camera_on\": false").await;
    assert!(saved.contains("\"camera_on\": false"), "{saved}");

    // Host mode from the panel: the free tier's lines, on loopback. HTTPS
    // is automatic off loopback only; the host's config file asks for it
    // here so the panel shows the certificate's fingerprint.
    let host_dir = app.home.join("data/app.confab.desktop/host");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("confab.toml"), "tls = \"on\"\n").unwrap();
    start_loopback_host(&app).await;
    let summary = app.text("[data-testid=licence-summary]").await;
    assert!(summary.starts_with("Free tier: 5 lines"), "{summary}");
    let loopback = app.text("[data-testid=host-loopback-only]").await;
    assert!(loopback.contains("only this computer"), "{loopback}");
    // The embedded server answers on the address the panel shows.
    let bound = loopback
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .unwrap()
        .trim_end_matches(':')
        .to_owned();
    // The fingerprint on the panel is the certificate's the server presents:
    // a client trusting only it completes the handshake.
    let rows = app.text("[data-testid=host-fingerprint-rows]").await;
    let hex: Vec<char> = rows.chars().filter(char::is_ascii_hexdigit).collect();
    assert_eq!(hex.len(), 64, "a SHA-256 fingerprint: {rows}");
    let fingerprint = hex
        .chunks(2)
        .map(|pair| pair.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(":");
    let tcp = tokio::net::TcpStream::connect(&bound)
        .await
        .unwrap_or_else(|e| panic!("the host listens on {bound}: {e}"));
    confab_client::connect_pinned(tcp, "localhost", &fingerprint)
        .await
        .expect("the served certificate has the fingerprint the panel shows");
    app.client
        .find(Locator::Css("[data-testid=host-fingerprint] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    app.wait_for_script(
        "the fingerprint copied",
        "const b = document.querySelector('[data-testid=host-fingerprint] button'); \
         return b && b.textContent.trim() === 'Copied';",
    )
    .await;
    app.screenshot(&out.join("host.png")).await;

    app.go("#/").await;
    let home_summary = app.text("[data-testid=host-summary]").await;
    assert!(
        home_summary.contains("0 of 5 lines in use"),
        "{home_summary}"
    );
    let recent = app.text("[data-testid=recent-meetings]").await;
    assert!(recent.contains("kqz-rmtp-wfa"), "{recent}");

    // Settings show what pre-join saved.
    app.go("#/settings").await;
    let theme = app.text("[data-testid=settings-theme]").await;
    assert!(theme.contains("Like the system"), "{theme}");
    app.screenshot(&out.join("settings.png")).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_window_says_what_to_do_without_a_camera_and_with_a_busy_microphone() {
    let _one = ONE_APP.lock().await;
    let out = output_dir("app_window_device_problems");
    let app = AppSession::start(
        &out,
        "problems",
        &[("CONFAB_FAKE_DEVICES", "no-camera,microphone-busy")],
    )
    .await;
    app.text("[data-testid=app-version]").await;
    app.go("#/prejoin").await;
    assert_eq!(
        app.text("[data-testid=camera-problem]").await,
        "No camera found — you can join without video."
    );
    assert_eq!(
        app.text("[data-testid=microphone-problem]").await,
        "The microphone “Babbling microphone” is in use by another program — close that \
         program, or pick another microphone."
    );
    let join = app.text("[data-testid=join-button]").await;
    assert_eq!(join, "Join without video");
    app.screenshot(&out.join("prejoin-device-problems.png"))
        .await;
    app.close().await;
}

/// Clicks the first element matching `css`, waiting for it.
async fn click(app: &AppSession, css: &str) {
    app.client
        .wait()
        .at_most(confab_tests::app::UI_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} appears: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css} clicks: {e}"));
}

/// Kills a child process if the test fails half-way.
struct Reaper(Option<std::process::Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts host mode from its panel on `127.0.0.1:0` and reads the free
/// tier's "0 of 5 lines in use".
async fn start_loopback_host(app: &AppSession) {
    app.go("#/host").await;
    let bind = app
        .client
        .wait()
        .at_most(confab_tests::app::UI_TIMEOUT)
        .for_element(Locator::Css("[data-testid=host-bind]"))
        .await
        .unwrap();
    bind.clear().await.unwrap();
    bind.send_keys("127.0.0.1:0").await.unwrap();
    click(app, "[data-testid=host-start]").await;
    assert_eq!(
        app.text("[data-testid=host-lines]").await,
        "0 of 5 lines in use"
    );
}

/// Starts host mode on loopback, presses "Start a meeting now" on Home and
/// joins as "Desk"; returns the host's URL and the meeting code.
async fn join_own_meeting(app: &AppSession) -> (String, String) {
    start_loopback_host(app).await;
    app.go("#/").await;
    click(app, "[data-testid=start-meeting]").await;
    app.text("[data-testid=prejoin-title]").await;
    let name = app
        .client
        .find(Locator::Css("[data-testid=display-name]"))
        .await
        .unwrap();
    name.clear().await.unwrap();
    name.send_keys("Desk").await.unwrap();
    click(app, "[data-testid=join-button]").await;
    let title = app.text("[data-testid=meeting-title]").await;
    assert!(title.starts_with("Meeting on "), "{title}");

    let hash = app
        .client
        .execute("return location.hash;", vec![])
        .await
        .unwrap();
    let query = hash.as_str().unwrap().split_once('?').unwrap().1.to_owned();
    let param = |key: &str| -> String {
        let raw = query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} in {query}"));
        raw.replace("%3A", ":").replace("%2F", "/")
    };
    (param("host"), param("code"))
}

/// Starts `confab-bot` with `args` into `code` on `server`; its stderr goes
/// to `<out>/<log>`.
fn start_bot(out: &Path, log: &str, server: &str, code: &str, args: &[&str]) -> Reaper {
    let bot = std::process::Command::new(confab_tests::built_binary("confab-bot", "confab-client"))
        .args(["--server", server, "--meeting", code])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(out.join(log)).unwrap())
        .spawn()
        .expect("confab-bot starts");
    Reaper(Some(bot))
}

/// The meeting in the window, end to end: host mode on loopback, an instant
/// meeting joined from Home, the self view's test pattern, a `confab-bot`
/// whose tile appears with its frame counter moving, chat both ways, and
/// leaving back to Home with the line given back. First, a host that does
/// not answer gets its sentence and a way forward.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_window_meeting_with_a_bot_chat_and_leave() {
    let _one = ONE_APP.lock().await;
    let out = output_dir("app_window_meeting");
    let app = AppSession::start(&out, "meeting", &[("CONFAB_FAKE_DEVICES", "1")]).await;
    app.text("[data-testid=app-version]").await;

    // A host nobody runs: the sentence says what to check, with a retry.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    app.go(&format!("#/meeting?code=abc-defg-hij&host={nobody}"))
        .await;
    let sentence = app.text("[data-testid=join-failure-sentence]").await;
    assert!(
        sentence.starts_with(&format!("No answer from {nobody}."))
            && sentence.contains("host mode is running"),
        "{sentence}"
    );
    assert_eq!(
        app.text("[data-testid=join-failure-action]").await,
        "Try again"
    );
    app.screenshot(&out.join("unreachable.png")).await;

    // Host mode on loopback, then a meeting started from Home.
    let (server, code) = join_own_meeting(&app).await;

    // The self view shows the local camera's test pattern, moving.
    let (first, _) = tile_stamp(&app, "[data-testid=self-tile]", (1280, 720)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (second, _) = tile_stamp(&app, "[data-testid=self-tile]", (1280, 720)).await;
    assert!(
        second.frame_number > first.frame_number,
        "the self view advances: {} then {}",
        first.frame_number,
        second.frame_number
    );

    // confab-bot joins the same meeting and says hello.
    let mut bot = start_bot(
        &out,
        "bot.log",
        &server,
        &code,
        &[
            "--name",
            "Bot",
            "--duration",
            "25",
            "--size",
            "640x360",
            "--say",
            "Hello from the bot",
        ],
    );
    let remote = "[data-testid=remote-tile]";
    let (a, _) = tile_stamp(&app, remote, (640, 360)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (b, _) = tile_stamp(&app, remote, (640, 360)).await;
    assert!(
        b.frame_number > a.frame_number,
        "the bot's tile advances: {} then {}",
        a.frame_number,
        b.frame_number
    );
    let chat = app.text("[data-testid=chat-messages]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut chat = chat;
    while !chat.contains("Hello from the bot") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        chat = app.text("[data-testid=chat-messages]").await;
    }
    assert!(chat.contains("Bot Hello from the bot"), "{chat}");
    let input = app
        .client
        .find(Locator::Css("[data-testid=chat-input]"))
        .await
        .unwrap();
    input.send_keys("Hello, bot").await.unwrap();
    click(&app, "[data-testid=chat-send]").await;
    app.wait_for_script(
        "my message in the chat",
        "return document.querySelector('[data-testid=chat-messages]').textContent.includes('You Hello, bot');",
    )
    .await;
    // Someone (the bot's chirps, the app's babble) is the active speaker.
    app.wait_for_script(
        "an active speaker's tile",
        "return document.querySelector('[data-speaking=true]') !== null;",
    )
    .await;
    app.screenshot(&out.join("meeting.png")).await;

    // Changing the camera mid-call from the Devices panel: the self view
    // shows the newly opened camera, whose frame counter starts again.
    let (before, _) = tile_stamp(&app, "[data-testid=self-tile]", (1280, 720)).await;
    click(&app, "[data-testid=panel-devices]").await;
    click(
        &app,
        "[data-testid=meeting-camera-picker] option:nth-child(2)",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (now, _) = tile_stamp(&app, "[data-testid=self-tile]", (1280, 720)).await;
        if now.frame_number < before.frame_number {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new camera's pictures replace the old ones (still at {})",
            now.frame_number
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    click(&app, "[data-testid=panel-people]").await;
    let people = app.text("[data-testid=participants]").await;
    assert!(
        people.contains("Bot") && people.contains("Desk (you) · host"),
        "{people}"
    );
    let quality = app.text("[data-testid=network-quality]").await;
    assert!(quality.starts_with("Network: "), "{quality}");
    // Infos fade by themselves (warnings stay).
    app.wait_for_script(
        "the join notice to fade",
        "return !document.querySelector('[data-testid=notices]').textContent.includes('Bot joined.');",
    )
    .await;
    click(&app, "[data-testid=view-toggle]").await;
    app.wait_for_script(
        "both pictures in the speaker view",
        "return document.querySelectorAll('[data-testid=speaker-view] [data-has-picture=true]').length === 2;",
    )
    .await;
    app.screenshot(&out.join("meeting-speaker-view.png")).await;

    // The bot got the app's chat and video, and leaves at its duration.
    let child = bot.0.take().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "the bot ran: {output:?}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    std::fs::write(out.join("bot.json"), &output.stdout).unwrap();
    assert!(
        summary["chat"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({ "from": "Desk", "text": "Hello, bot" })),
        "{summary}"
    );
    let from_app = &summary["remotes"][0];
    assert!(
        from_app["frames_decoded"].as_u64().unwrap() > 0 && from_app["name"] == "Desk",
        "the bot decoded the app's video: {from_app}"
    );
    app.wait_for_script(
        "the bot's tile to go",
        "return document.querySelectorAll('[data-testid=remote-person]').length === 0;",
    )
    .await;

    // Leaving returns Home, and the line is free again.
    click(&app, "[data-testid=leave-button]").await;
    let summary = app.text("[data-testid=host-summary]").await;
    assert!(summary.contains("0 of 5 lines in use"), "{summary}");
    app.close().await;
}

/// The frame path's cost: nine tiles of the camera preview in a 3×3 grid
/// for 10 s, with frames delivered and drawn per second and the CPU of the
/// WebKit web process and of the app, once per draw mode (a fresh app each;
/// `CONFAB_BENCH_DRAW=plain,shared` picks modes and order, default all of
/// `ui/src/lib/video/drawers.ts`). Prints figures for docs/benchmarks.md;
/// run with `cargo test -p confab-tests --test app_window -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it alone"]
async fn frame_path_benchmark_nine_tiles() {
    let _one = ONE_APP.lock().await;
    let out = output_dir("frame_path_benchmark");
    let modes = std::env::var("CONFAB_BENCH_DRAW")
        .unwrap_or_else(|_| "preserve,plain,shared,convert,worker".into());
    let mut reports = Vec::new();
    for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let report = bench_draw_mode(&out, mode).await;
        eprintln!("{report}");
        reports.push(report);
        std::fs::write(out.join("figures.txt"), reports.join("\n")).unwrap();
    }
}

async fn bench_draw_mode(out: &Path, mode: &str) -> String {
    let app = AppSession::start(
        out,
        &format!("bench-{mode}"),
        &[("CONFAB_FAKE_DEVICES", "1")],
    )
    .await;
    app.text("[data-testid=app-version]").await;
    let idle_paint = app.client.execute_async(PAINT_RATE, vec![]).await.unwrap();
    app.go(&format!("#/bench?draw={mode}")).await;
    let shown = app.text("[data-testid=bench-grid]").await;
    let grid = app
        .client
        .find(Locator::Css("[data-testid=bench-grid]"))
        .await
        .unwrap();
    assert_eq!(
        grid.attr("data-draw").await.unwrap().as_deref(),
        Some(mode),
        "the bench runs the mode asked for ({shown})"
    );
    let report = measure_tiles(&app, out, 9, &idle_paint, &format!("bench-{mode}.png")).await;
    app.close().await;
    format!("{mode}: {report}")
}

/// Frames delivered and drawn per second in `tiles` tiles now drawing,
/// over 10 s after 3 s of warm-up, with the CPU of the WebKit web process,
/// the app and Xvfb; saves a screenshot as `shot`.
async fn measure_tiles(
    app: &AppSession,
    out: &Path,
    tiles: usize,
    idle_paint: &serde_json::Value,
    shot: &str,
) -> String {
    let counts = "const problem = document.querySelector('[data-testid=bench-tile] .problem'); \
        if (problem) return { problem: problem.textContent }; \
        const all = [...(window.confabFrames ?? new Map()).values()]; \
        if (all.length < TILES || all.some(c => c.drawn === 0)) return null; \
        return { tiles: all.length, received: all.reduce((n, c) => n + c.received, 0), \
                 drawn: all.reduce((n, c) => n + c.drawn, 0), \
                 skipped: all.reduce((n, c) => n + c.skipped, 0), \
                 draw_us: Math.round(1000 * all.reduce((n, c) => n + c.drawMs, 0)), \
                 size: `${all[0].width}x${all[0].height}` };"
        .replace("TILES", &tiles.to_string());
    let first = app
        .wait_for_script(&format!("{tiles} tiles drawing"), &counts)
        .await;
    assert!(first.get("problem").is_none(), "{shot}: {first}");
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up

    let web = processes_on_display("WebKitWebProces", app.display());
    let main = processes_on_display("confab", app.display());
    let xvfb = xvfb_process(app.display());
    assert!(!web.is_empty(), "found the WebKit web process");
    let before = app.wait_for_script("counts", &counts).await;
    let cpu_before: Vec<u64> = web
        .iter()
        .chain(&main)
        .chain(&xvfb)
        .map(|p| cpu_ticks(*p))
        .collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = app.wait_for_script("counts", &counts).await;
    let cpu_after: Vec<u64> = web
        .iter()
        .chain(&main)
        .chain(&xvfb)
        .map(|p| cpu_ticks(*p))
        .collect();
    let secs = started.elapsed().as_secs_f64();
    // How often the page gets to paint at all, and whether it thinks it is visible.
    let paint = app
        .client
        .execute_async(PAINT_RATE, vec![])
        .await
        .unwrap_or_else(|e| serde_json::json!({ "fps": format!("unknown ({e})") }));
    app.screenshot(&out.join(shot)).await;

    let per_s =
        |key: &str| (after[key].as_u64().unwrap() - before[key].as_u64().unwrap()) as f64 / secs;
    let ticks = ticks_per_second();
    let cpu = |range: std::ops::Range<usize>| -> f64 {
        range
            .map(|i| (cpu_after[i] - cpu_before[i]) as f64 / ticks / secs * 100.0)
            .sum()
    };
    format!(
        "tiles {} at {}: delivered {:.1} frames/s ({:.1} per tile), drawn {:.1} frames/s \
         ({:.1} per tile), {:.2} ms of draw calls per frame, skipped {:.1}/s; CPU: WebKit web process {:.0}%, app {:.0}% \
         Xvfb {:.0}% (of one core, over {secs:.1} s); page paints {} times/s ({} before video), {}; \
         load average {}",
        after["tiles"],
        after["size"].as_str().unwrap(),
        per_s("received"),
        per_s("received") / tiles as f64,
        per_s("drawn"),
        per_s("drawn") / tiles as f64,
        per_s("draw_us") / per_s("drawn") / 1000.0,
        per_s("skipped"),
        cpu(0..web.len()),
        cpu(web.len()..web.len() + main.len()),
        cpu(web.len() + main.len()..cpu_after.len()),
        paint["fps"],
        idle_paint["fps"],
        paint["visibility"],
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim(),
    )
}

/// The meeting's frame path: this app and four `confab-bot`s in one
/// meeting (the free tier's five lines), the gallery's five tiles (the self
/// view and four decoded remote streams) measured like the preview
/// benchmark above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it alone"]
async fn meeting_frame_path_benchmark_five_tiles() {
    let _one = ONE_APP.lock().await;
    let out = output_dir("meeting_frame_path_benchmark");
    let app = AppSession::start(&out, "bench", &[("CONFAB_FAKE_DEVICES", "1")]).await;
    app.text("[data-testid=app-version]").await;
    let idle_paint = app.client.execute_async(PAINT_RATE, vec![]).await.unwrap();
    let (server, code) = join_own_meeting(&app).await;
    let _bots = start_bot(
        &out,
        "bots.log",
        &server,
        &code,
        &[
            "--count",
            "8",
            "--duration",
            "90",
            "--size",
            "640x360",
            "--fps",
            "15",
            "--no-audio",
        ],
    );
    let report = measure_tiles(&app, &out, 5, &idle_paint, "meeting-bench.png").await;
    eprintln!("{report}");
    std::fs::write(out.join("figures.txt"), &report).unwrap();
    app.close().await;
}

const PAINT_RATE: &str = "const done = arguments[0]; let n = 0; const t0 = performance.now(); \
    const tick = () => { n++; if (performance.now() - t0 < 2000) requestAnimationFrame(tick); \
    else done({ fps: n / 2, visibility: document.visibilityState }); }; \
    requestAnimationFrame(tick);";

async fn wait_for_file_containing(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Processes whose name starts with `comm` and that run on `display`.
fn processes_on_display(comm: &str, display: &str) -> Vec<u32> {
    let wanted = format!("DISPLAY={display}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            name.trim() == comm && env.split(|&b| b == 0).any(|var| var == wanted.as_bytes())
        })
        .collect()
}

/// The Xvfb serving `display` (it draws the window, and GL in software).
fn xvfb_process(display: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let mut args = cmd.split(|&b| b == 0);
            args.next().is_some_and(|a| a.ends_with(b"Xvfb"))
                && args.next() == Some(display.as_bytes())
        })
        .collect()
}

/// User plus system CPU time of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
