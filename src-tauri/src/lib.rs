//! The Confab desktop app.
//!
//! A library with a thin `main` so tests can build and call it. Commands are
//! grouped by area in `commands/` and stay thin: the work lives in the
//! modules here (frame socket, preview, host mode, settings) and in the
//! library crates (`devices`, `media`, `server`), never in a command.

mod commands;
pub mod frames;
pub mod host;
pub mod meeting;
pub mod pins;
pub mod preview;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tauri::Manager;

pub use commands::AppInfo;

use frames::{FrameHub, FrameServer};
use preview::Preview;
use settings::SettingsStore;

/// Why the app could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
         on a headless machine run the host server instead: confab-server"
    )]
    NoDisplay,
    #[error(transparent)]
    FakeDevices(#[from] preview::FakeDevicesError),
    #[error("the window system failed")]
    Tauri(#[from] tauri::Error),
}

/// What the commands share.
pub(crate) struct AppState {
    frames: FrameServer,
    hub: Arc<FrameHub>,
    preview: Arc<Mutex<Preview>>,
    meeting: tokio::sync::Mutex<meeting::MeetingSlot>,
    pins: pins::PinStore,
    /// Host keys of the meetings this app created on its host mode, by
    /// code: joining one of them makes this person its host.
    host_keys: Mutex<HashMap<String, String>>,
    fake_devices: bool,
    host: tokio::sync::Mutex<host::Host>,
    settings: SettingsStore,
    browser: Option<confab_server::mdns::Browser>,
}

impl AppState {
    fn preview(&self) -> MutexGuard<'_, Preview> {
        lock(&self.preview)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens the main window and runs until it is closed.
pub fn run() -> Result<(), AppError> {
    if cfg!(target_os = "linux") && !has_display() {
        // GTK would abort with a bare "cannot open display"; say what to do.
        return Err(AppError::NoDisplay);
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    // Checked before the window opens: a typo in the variable is an error
    // at start, not a silent switch to the real devices.
    let (catalog, fake_devices) = preview::catalog_from_env()?;
    tauri::Builder::default()
        .setup(move |app| {
            let handle = app.handle().clone();
            let hub = FrameHub::new();
            let frames = tauri::async_runtime::block_on(FrameServer::start(Arc::clone(&hub)))?;
            let events = Arc::new(commands::media::WindowEvents(handle.clone()));
            let preview = Preview::new(catalog, Arc::clone(&hub), events);
            let paths = app.path();
            let (config_dir, data_dir) = (paths.app_config_dir()?, paths.app_data_dir()?);
            let browser = confab_server::mdns::Browser::start(false)
                .inspect_err(|e| tracing::warn!("not looking for hosts on the network: {e}"))
                .ok();
            app.manage(AppState {
                frames,
                hub,
                preview: Arc::new(Mutex::new(preview)),
                meeting: tokio::sync::Mutex::default(),
                pins: pins::PinStore::new(&data_dir),
                host_keys: Mutex::default(),
                fake_devices,
                host: tokio::sync::Mutex::new(host::Host::new(data_dir.join("host"))),
                settings: SettingsStore::new(&config_dir, &data_dir),
                browser,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::media::frame_socket,
            commands::media::list_devices,
            commands::media::preview_camera,
            commands::media::preview_microphone,
            commands::host::host_status,
            commands::host::host_start,
            commands::host::host_stop,
            commands::host::host_install_licence,
            commands::host::host_open_admin,
            commands::host::found_hosts,
            commands::settings::load_settings,
            commands::settings::save_settings,
            commands::settings::recent_meetings,
            commands::settings::remember_meeting,
            commands::meeting::meeting_join,
            commands::meeting::meeting_trust_certificate,
            commands::meeting::meeting_leave,
            commands::meeting::meeting_chat,
            commands::meeting::meeting_raise_hand,
            commands::meeting::meeting_set_muted,
            commands::meeting::meeting_set_camera,
            commands::meeting::meeting_set_microphone,
            commands::meeting::meeting_set_speaker,
            commands::meeting::meeting_set_view,
            commands::meeting::meeting_admit,
            commands::meeting::meeting_create_instant,
        ])
        .build(tauri::generate_context!())?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                // Colleagues' connections get a clean close, and the
                // database its last usage sample, when the window closes.
                let state = app.state::<AppState>();
                tauri::async_runtime::block_on(async {
                    // The seat goes back at once rather than at the
                    // server's heartbeat timeout.
                    state.meeting.lock().await.leave().await;
                    if let Err(e) = state.host.lock().await.stop().await {
                        tracing::warn!("host mode did not stop cleanly: {e}");
                    }
                });
            }
        });
    Ok(())
}

/// Opens `url` in the system's browser.
pub(crate) fn open_in_browser(url: &str) -> std::io::Result<()> {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(target_os = "windows") {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let mut child = command.arg(url).spawn()?;
    // Reap it when it exits, so no zombie stays behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
