//! Devices, the preview and the frame socket.

use confab_devices::{DeviceId, DeviceInfo, DeviceKind};
use serde::Serialize;
use tauri::Emitter;
use ts_rs::TS;

use super::CommandError;
use crate::AppState;
use crate::preview::{DeviceState, Preview, PreviewEvents};

/// Where the page connects to get video: `ws://127.0.0.1:<port>/?token=<token>`.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct FrameSocket {
    pub port: u16,
    pub token: String,
}

/// One device in a picker.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct DeviceEntry {
    pub id: String,
    pub name: String,
    pub is_default: bool,
}

/// The pickers' contents.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct DeviceLists {
    pub cameras: Vec<DeviceEntry>,
    pub microphones: Vec<DeviceEntry>,
    pub speakers: Vec<DeviceEntry>,
    /// Listings that failed, as sentences.
    pub problems: Vec<String>,
}

/// The `device-changed` event: a running preview device stopped by itself.
#[derive(Debug, Clone, Serialize, TS)]
pub(crate) struct DeviceChange {
    /// `camera` or `microphone`.
    pub kind: String,
    pub state: DeviceState,
}

/// Event names the page listens to.
pub(crate) const MIC_LEVEL_EVENT: &str = "mic-level";
pub(crate) const DEVICE_CHANGED_EVENT: &str = "device-changed";

/// Sends preview events to the window.
pub(crate) struct WindowEvents(pub tauri::AppHandle);

impl PreviewEvents for WindowEvents {
    fn level(&self, level: f32) {
        let _ = self.0.emit(MIC_LEVEL_EVENT, level);
    }

    fn device_changed(&self, kind: DeviceKind, state: DeviceState) {
        let change = DeviceChange {
            kind: kind.to_string(),
            state,
        };
        let _ = self.0.emit(DEVICE_CHANGED_EVENT, change);
    }
}

#[tauri::command]
pub(crate) fn frame_socket(state: tauri::State<'_, AppState>) -> FrameSocket {
    let socket = state.frames.socket();
    FrameSocket {
        port: socket.port,
        token: socket.token,
    }
}

#[tauri::command]
pub(crate) fn list_devices(state: tauri::State<'_, AppState>) -> DeviceLists {
    let catalog = state.preview().catalog().clone();
    let mut problems = Vec::new();
    let mut list = |kind: DeviceKind| match catalog.devices(kind) {
        Ok(devices) => devices.into_iter().map(entry).collect(),
        Err(e) => {
            problems.push(crate::preview::problem_sentence(kind, &e));
            Vec::new()
        }
    };
    let (cameras, microphones, speakers) = (
        list(DeviceKind::Camera),
        list(DeviceKind::Microphone),
        list(DeviceKind::Speaker),
    );
    DeviceLists {
        cameras,
        microphones,
        speakers,
        problems,
    }
}

fn entry(info: DeviceInfo) -> DeviceEntry {
    DeviceEntry {
        id: info.id.0,
        name: info.name,
        is_default: info.is_default,
    }
}

/// Runs `work` on the preview off the async workers: opening a device
/// can take a while.
async fn with_preview(
    state: &AppState,
    work: impl FnOnce(&mut Preview) -> DeviceState + Send + 'static,
) -> Result<DeviceState, CommandError> {
    let preview = state.preview.clone();
    let task = tauri::async_runtime::spawn_blocking(move || work(&mut crate::lock(&preview)));
    Ok(task.await?)
}

/// Turns the camera preview on (with `device`, or the default) or off.
#[tauri::command]
pub(crate) async fn preview_camera(
    state: tauri::State<'_, AppState>,
    device: Option<String>,
    on: bool,
) -> Result<DeviceState, CommandError> {
    with_preview(&state, move |preview| {
        if on {
            return preview.start_camera(device.map(DeviceId));
        }
        preview.stop_camera();
        DeviceState::off()
    })
    .await
}

/// Turns the microphone level meter on (with `device`, or the default) or off.
#[tauri::command]
pub(crate) async fn preview_microphone(
    state: tauri::State<'_, AppState>,
    device: Option<String>,
    on: bool,
) -> Result<DeviceState, CommandError> {
    with_preview(&state, move |preview| {
        if on {
            return preview.start_microphone(device.map(DeviceId));
        }
        preview.stop_microphone();
        DeviceState::off()
    })
    .await
}
