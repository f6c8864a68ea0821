//! Commands the webview calls. Their argument and result types derive `TS`
//! so the UI's types are generated (see the bindings test below).

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
}

#[tauri::command]
pub(crate) fn app_info(app: tauri::AppHandle) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        data_dir: app
            .path()
            .app_data_dir()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})")),
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
            super::AppInfo::export_all(&Config::new().with_out_dir(dir))
        });
    }
}
