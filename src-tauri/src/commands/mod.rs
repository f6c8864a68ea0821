//! Commands the webview calls, grouped by area. Their argument and result
//! types derive `TS` so the UI's types are generated (see the bindings test
//! below). Commands stay thin: the work is in the modules they call.

pub(crate) mod host;
pub(crate) mod media;
pub(crate) mod meeting;
pub(crate) mod settings;

use serde::Serialize;
use tauri::Manager;
use ts_rs::TS;

/// What the app tells its UI about itself.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: String,
    /// Where the app keeps settings and data.
    pub data_dir: String,
    /// Where `settings.json` is.
    pub settings_file: String,
    /// True when started with `CONFAB_FAKE_DEVICES`: the devices are fakes.
    pub fake_devices: bool,
}

/// A command's failure as the sentence the page shows.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct CommandError {
    pub message: String,
}

impl<E: std::error::Error> From<E> for CommandError {
    fn from(e: E) -> Self {
        Self {
            message: e.to_string(),
        }
    }
}

#[tauri::command]
pub(crate) fn app_info(app: tauri::AppHandle, state: tauri::State<'_, crate::AppState>) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        data_dir: app
            .path()
            .app_data_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})")),
        settings_file: state.settings.settings_path().display().to_string(),
        fake_devices: state.fake_devices,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ts_rs::{Config, TS};

    #[test]
    fn committed_typescript_bindings_for_commands_are_up_to_date() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/generated/app");
        confab_proto::bindings::assert_fresh(&committed, |dir| {
            let config = Config::new().with_out_dir(dir);
            super::AppInfo::export_all(&config)?;
            super::CommandError::export_all(&config)?;
            super::media::FrameSocket::export_all(&config)?;
            super::media::DeviceLists::export_all(&config)?;
            super::media::DeviceChange::export_all(&config)?;
            crate::preview::DeviceState::export_all(&config)?;
            crate::host::HostStatus::export_all(&config)?;
            crate::settings::Settings::export_all(&config)?;
            crate::settings::RecentMeeting::export_all(&config)?;
            super::host::FoundHost::export_all(&config)?;
            super::meeting::InstantMeeting::export_all(&config)?;
            crate::meeting::JoinRequest::export_all(&config)?;
            crate::meeting::JoinAnswer::export_all(&config)?;
            crate::meeting::failure::JoinFailure::export_all(&config)?;
            crate::meeting::update::MeetingUpdate::export_all(&config)
        });
    }
}
