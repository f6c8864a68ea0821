//! The Confab desktop app.
//!
//! A library with a thin `main` so tests can build and call it. Commands are
//! grouped by area in their own modules and stay thin: the work lives in the
//! library crates (`client`, `server`), never here.

mod commands;

pub use commands::AppInfo;

/// Why the app could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(
        "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); \
         on a headless machine run the host server instead: confab-server"
    )]
    NoDisplay,
    #[error("the window system failed")]
    Tauri(#[from] tauri::Error),
}

/// Opens the main window and runs until it is closed.
pub fn run() -> Result<(), AppError> {
    if cfg!(target_os = "linux") && !has_display() {
        // GTK would abort with a bare "cannot open display"; say what to do.
        return Err(AppError::NoDisplay);
    }
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .run(tauri::generate_context!())?;
    Ok(())
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}
