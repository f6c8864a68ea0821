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

/// Reads the preview tile's pixels through a 2D canvas copy, converts them
/// to luma in the page (BT.601 studio range, as the shader's inverse), and
/// returns them with the canvas size and the RGB of one colour bar.
const READ_PREVIEW: &str = r#"
const c = document.querySelector('[data-testid=preview-tile][data-has-picture=true] canvas');
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
/// The canvas is the picture scaled to its tile; scaling it back to 720p
/// (nearest neighbour) puts the stamp's cells where the reader expects them.
async fn preview_stamp(app: &AppSession) -> (Stamp, serde_json::Value) {
    let shot = app
        .wait_for_script("a picture on the preview", READ_PREVIEW)
        .await;
    let (w, h) = (
        shot["width"].as_u64().unwrap() as usize,
        shot["height"].as_u64().unwrap() as usize,
    );
    let luma = base64::engine::general_purpose::STANDARD
        .decode(shot["luma"].as_str().unwrap())
        .unwrap();
    assert_eq!(luma.len(), w * h);
    let mut frame = VideoFrame::black(1280, 720, Duration::ZERO).unwrap();
    let (y, _, _) = frame.planes_mut();
    for row in 0..720 {
        for col in 0..1280 {
            y[row * 1280 + col] = luma[(row * h / 720) * w + col * w / 1280];
        }
    }
    let stamp = read_stamp(&frame).unwrap_or_else(|| {
        panic!("the preview ({w}x{h}) shows the test pattern with a readable stamp")
    });
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
    app.client
        .find(Locator::Css("[data-testid=host-start]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        app.text("[data-testid=host-lines]").await,
        "0 of 5 lines in use"
    );
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
    const COUNTS: &str = "const problem = document.querySelector('[data-testid=bench-tile] .problem'); \
        if (problem) return { problem: problem.textContent }; \
        const all = [...(window.confabFrames ?? new Map()).values()]; \
        if (all.length < 9 || all.some(c => c.drawn === 0)) return null; \
        return { tiles: all.length, received: all.reduce((n, c) => n + c.received, 0), \
                 drawn: all.reduce((n, c) => n + c.drawn, 0), \
                 skipped: all.reduce((n, c) => n + c.skipped, 0), \
                 draw_us: Math.round(1000 * all.reduce((n, c) => n + c.drawMs, 0)), \
                 size: `${all[0].width}x${all[0].height}` };";
    let first = app.wait_for_script("nine tiles drawing", COUNTS).await;
    assert!(first.get("problem").is_none(), "{mode}: {first}");
    tokio::time::sleep(Duration::from_secs(3)).await; // warm-up

    let web = processes_on_display("WebKitWebProces", app.display());
    let main = processes_on_display("confab", app.display());
    let xvfb = xvfb_process(app.display());
    assert!(!web.is_empty(), "found the WebKit web process");
    let before = app.wait_for_script("counts", COUNTS).await;
    let cpu_before: Vec<u64> = web
        .iter()
        .chain(&main)
        .chain(&xvfb)
        .map(|p| cpu_ticks(*p))
        .collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = app.wait_for_script("counts", COUNTS).await;
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
    app.screenshot(&out.join(format!("bench-{mode}.png"))).await;

    let per_s =
        |key: &str| (after[key].as_u64().unwrap() - before[key].as_u64().unwrap()) as f64 / secs;
    let ticks = ticks_per_second();
    let cpu = |range: std::ops::Range<usize>| -> f64 {
        range
            .map(|i| (cpu_after[i] - cpu_before[i]) as f64 / ticks / secs * 100.0)
            .sum()
    };
    let report = format!(
        "{mode}: tiles {} at {}: delivered {:.1} frames/s ({:.1} per tile), drawn {:.1} frames/s \
         ({:.1} per tile), {:.2} ms of draw calls per frame, skipped {:.1}/s; CPU: WebKit web process {:.0}%, app {:.0}% \
         Xvfb {:.0}% (of one core, over {secs:.1} s); page paints {} times/s ({} before video), {}; \
         load average {}",
        after["tiles"],
        after["size"].as_str().unwrap(),
        per_s("received"),
        per_s("received") / 9.0,
        per_s("drawn"),
        per_s("drawn") / 9.0,
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
    );
    app.close().await;
    report
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
