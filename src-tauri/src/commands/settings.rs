//! Settings and recent meetings.

use super::CommandError;
use crate::AppState;
use crate::settings::{RecentMeeting, Settings};

#[tauri::command]
pub(crate) fn load_settings(state: tauri::State<'_, AppState>) -> Settings {
    state.settings.load()
}

/// Saves and returns the settings as stored (trimmed), or says what is wrong.
#[tauri::command]
pub(crate) fn save_settings(
    state: tauri::State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    Ok(state.settings.save(settings)?)
}

#[tauri::command]
pub(crate) fn recent_meetings(state: tauri::State<'_, AppState>) -> Vec<RecentMeeting> {
    state.settings.recent()
}

#[tauri::command]
pub(crate) fn remember_meeting(
    state: tauri::State<'_, AppState>,
    meeting: RecentMeeting,
) -> Result<Vec<RecentMeeting>, CommandError> {
    Ok(state.settings.remember(meeting)?)
}
