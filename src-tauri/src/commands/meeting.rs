//! The meeting screen: join (with the host resolved and its certificate
//! pinned), the in-call actions, leave, and starting a meeting on this
//! computer's host mode. The work is in `crate::meeting`.

use std::sync::Arc;

use confab_server::meetings::{Meetings, NewMeeting};
use serde::Serialize;
use tauri::Emitter;
use ts_rs::TS;

use super::CommandError;
use crate::AppState;
use crate::meeting::failure::JoinFailure;
use crate::meeting::update::MeetingUpdate;
use crate::meeting::{JoinAnswer, JoinRequest, MediaSources, MeetingSink, pinned_fingerprint};

/// The event every meeting update arrives on.
pub(crate) const MEETING_EVENT: &str = "meeting-event";

/// A meeting started on this computer's host mode.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct InstantMeeting {
    pub code: String,
    /// The base URL this computer joins it at.
    pub server: String,
}

impl MeetingSink for super::media::WindowEvents {
    fn update(&self, update: MeetingUpdate) {
        let _ = self.0.emit(MEETING_EVENT, update);
    }
}

fn sources(state: &AppState) -> MediaSources {
    MediaSources {
        catalog: Arc::clone(state.preview().catalog()),
        hub: Arc::clone(&state.hub),
    }
}

#[tauri::command]
pub(crate) async fn meeting_join(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    request: JoinRequest,
) -> Result<JoinAnswer, JoinFailure> {
    let local = state.host.lock().await.running().map(|s| s.base_url());
    let server = match request.server.clone().filter(|s| !s.trim().is_empty()) {
        Some(server) => server,
        None => local.ok_or_else(JoinFailure::no_host)?,
    };
    let fingerprint = pinned_fingerprint(&server, &state.pins).await?;
    let host_key = crate::lock(&state.host_keys).get(&request.code).cloned();
    // The pre-join preview holds the devices the meeting is about to open.
    {
        let preview = Arc::clone(&state.preview);
        let _ = tauri::async_runtime::spawn_blocking(move || {
            let mut preview = crate::lock(&preview);
            preview.stop_camera();
            preview.stop_microphone();
        })
        .await;
    }
    let sink = Arc::new(super::media::WindowEvents(app));
    let sources = sources(&state);
    state
        .meeting
        .lock()
        .await
        .join(&server, request, fingerprint, host_key, sources, sink)
        .await
}

/// Trusts `fingerprint` for `server` from now on (after the person saw that
/// its certificate changed and chose to).
#[tauri::command]
pub(crate) fn meeting_trust_certificate(
    state: tauri::State<'_, AppState>,
    server: String,
    fingerprint: String,
) -> Result<(), CommandError> {
    Ok(state.pins.trust(&server, &fingerprint)?)
}

#[tauri::command]
pub(crate) async fn meeting_leave(state: tauri::State<'_, AppState>) -> Result<(), CommandError> {
    state.meeting.lock().await.leave().await;
    Ok(())
}

#[tauri::command]
pub(crate) async fn meeting_chat(
    state: tauri::State<'_, AppState>,
    text: String,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.chat(&text)?)
}

#[tauri::command]
pub(crate) async fn meeting_raise_hand(
    state: tauri::State<'_, AppState>,
    raised: bool,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.raise_hand(raised)?)
}

#[tauri::command]
pub(crate) async fn meeting_set_muted(
    state: tauri::State<'_, AppState>,
    muted: bool,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.set_audio_muted(muted).await?)
}

#[tauri::command]
pub(crate) async fn meeting_set_camera(
    state: tauri::State<'_, AppState>,
    on: bool,
    device: Option<String>,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.set_camera(on, device).await?)
}

#[tauri::command]
pub(crate) async fn meeting_set_microphone(
    state: tauri::State<'_, AppState>,
    device: Option<String>,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.set_microphone(device).await?)
}

#[tauri::command]
pub(crate) async fn meeting_set_speaker(
    state: tauri::State<'_, AppState>,
    device: Option<String>,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.set_speaker(device).await?)
}

/// The size a participant's tile is shown at (0×0: not shown), so the
/// host's SFU sends the simulcast layer that fits.
#[tauri::command]
pub(crate) async fn meeting_set_view(
    state: tauri::State<'_, AppState>,
    participant: u64,
    width: u32,
    height: u32,
) -> Result<(), CommandError> {
    Ok(state
        .meeting
        .lock()
        .await
        .set_view(participant, width, height)?)
}

#[tauri::command]
pub(crate) async fn meeting_admit(
    state: tauri::State<'_, AppState>,
    participant: u64,
    admit: bool,
) -> Result<(), CommandError> {
    Ok(state.meeting.lock().await.admit(participant, admit)?)
}

/// Creates an instant meeting on this computer's host mode; the app joins
/// it as its host.
#[tauri::command]
pub(crate) async fn meeting_create_instant(
    state: tauri::State<'_, AppState>,
) -> Result<InstantMeeting, CommandError> {
    let host = state.host.lock().await;
    let Some(server) = host.running() else {
        return Err(CommandError {
            message: "Host mode is not running; start it first.".into(),
        });
    };
    let title = format!("Meeting on {}", confab_server::mdns::computer_name());
    let meeting = Meetings::new(server.storage().clone())
        .create(NewMeeting::titled(title), "host mode")
        .await?;
    let code = meeting.code.as_str().to_owned();
    crate::lock(&state.host_keys).insert(code.clone(), meeting.host_key);
    Ok(InstantMeeting {
        code,
        server: server.base_url(),
    })
}
