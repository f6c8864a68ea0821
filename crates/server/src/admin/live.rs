//! The admin API's live side: lines in use, removing connections, ending
//! meetings, the licence, and usage history (docs/admin-api.md).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use confab_license::Timestamp;
use confab_proto::signal::ParticipantId;
use confab_proto::{LicenceInfo, LinesSnapshot, UsageHistory};
use serde::Deserialize;

use super::{AdminSession, ApiError};
use crate::http::AppState;
use crate::licence::{self, InstallError};
use crate::usage;

/// Who the hub names when an administrator acts.
const BY_ADMIN: &str = "an administrator";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/lines", get(lines))
        .route(
            "/api/admin/connections/{meeting}/{participant}",
            delete(remove_connection),
        )
        .route("/api/admin/meetings/{code}/end", post(end_meeting))
        .route("/api/admin/licence", get(licence_info).put(install_licence))
        .route("/api/admin/usage", get(usage_history))
}

async fn lines(_admin: AdminSession, State(state): State<AppState>) -> Json<LinesSnapshot> {
    Json(state.signalling().hub().snapshot())
}

async fn remove_connection(
    _admin: AdminSession,
    State(state): State<AppState>,
    Path((meeting, participant)): Path<(String, ParticipantId)>,
) -> Result<StatusCode, ApiError> {
    let sig = state.signalling();
    if !sig.hub().has_member(&meeting, participant) {
        return Err(ApiError::NotLive(format!(
            "Nobody with id {participant} is in meeting {meeting} now."
        )));
    }
    sig.with_hub(|hub| hub.remove_participant(&meeting, participant, BY_ADMIN));
    Ok(StatusCode::NO_CONTENT)
}

async fn end_meeting(
    _admin: AdminSession,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    let sig = state.signalling();
    if !sig.hub().is_live(&code) {
        return Err(ApiError::NotLive(format!(
            "Meeting {code} is not live: nobody is in it or waiting."
        )));
    }
    sig.with_hub(|hub| hub.end_meeting(&code, BY_ADMIN));
    Ok(StatusCode::NO_CONTENT)
}

async fn licence_info(
    _admin: AdminSession,
    State(state): State<AppState>,
) -> Result<Json<LicenceInfo>, ApiError> {
    let storage = state.storage().clone();
    let status =
        tokio::task::spawn_blocking(move || licence::current_status(&storage, Timestamp::now()))
            .await
            .expect("licence task panicked")?;
    Ok(Json(licence::info(&status)))
}

/// The body is the licence file itself. A refused file changes nothing.
async fn install_licence(
    _admin: AdminSession,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<LicenceInfo>, ApiError> {
    let storage = state.storage().clone();
    let status =
        tokio::task::spawn_blocking(move || licence::install(&storage, &body, Timestamp::now()))
            .await
            .expect("licence task panicked")
            .map_err(|e| match e {
                InstallError::Refused(reason) => ApiError::LicenceRefused(reason),
                InstallError::Storage(e) => ApiError::Server(e),
            })?;
    tracing::warn!("licence installed: {status}");
    // Nobody is dropped if the new licence has fewer lines than are in use.
    state.signalling().hub().set_line_limit(status.seat_limit());
    Ok(Json(licence::info(&status)))
}

#[derive(Debug, Deserialize)]
struct UsageQuery {
    days: Option<u32>,
}

async fn usage_history(
    _admin: AdminSession,
    State(state): State<AppState>,
    Query(query): Query<UsageQuery>,
) -> Result<Json<UsageHistory>, ApiError> {
    let days = i64::from(query.days.unwrap_or(7).clamp(1, 366));
    let since = Timestamp::now().as_second() / 60 - days * 1440;
    // About 700 points for a week: enough to see the working day's shape.
    let bucket = if days <= 7 { 15 } else { 60 };
    Ok(Json(usage::history(state.storage(), since, bucket).await?))
}
