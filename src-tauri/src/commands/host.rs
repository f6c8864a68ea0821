//! The host-mode panel.

use super::CommandError;
use crate::AppState;
use crate::host::HostStatus;

#[tauri::command]
pub(crate) async fn host_status(
    state: tauri::State<'_, AppState>,
) -> Result<HostStatus, CommandError> {
    Ok(state.host.lock().await.status().await?)
}

#[tauri::command]
pub(crate) async fn host_start(
    state: tauri::State<'_, AppState>,
    bind: String,
) -> Result<HostStatus, CommandError> {
    Ok(state.host.lock().await.start(&bind).await?)
}

#[tauri::command]
pub(crate) async fn host_stop(
    state: tauri::State<'_, AppState>,
) -> Result<HostStatus, CommandError> {
    let mut host = state.host.lock().await;
    host.stop().await?;
    Ok(host.status().await?)
}

/// `contents` is the licence file's text, read by the page from the file
/// the person picked.
#[tauri::command]
pub(crate) async fn host_install_licence(
    state: tauri::State<'_, AppState>,
    contents: String,
) -> Result<HostStatus, CommandError> {
    let host = state.host.lock().await;
    Ok(host.install_licence(contents.into_bytes()).await?)
}

/// Opens the admin console (or its first-run set-up page) in the system's
/// browser.
#[tauri::command]
pub(crate) async fn host_open_admin(
    state: tauri::State<'_, AppState>,
) -> Result<String, CommandError> {
    let url = state.host.lock().await.admin_page()?;
    crate::open_in_browser(&url)?;
    Ok(url)
}

/// Hosts announced on the office network.
#[tauri::command]
pub(crate) fn found_hosts(state: tauri::State<'_, AppState>) -> Vec<FoundHost> {
    state
        .browser
        .as_ref()
        .map(|b| {
            b.hosts()
                .into_iter()
                .map(|h| FoundHost {
                    name: h.name,
                    url: h.url,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A host found with mDNS.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub(crate) struct FoundHost {
    pub name: String,
    pub url: String,
}
