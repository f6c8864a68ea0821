//! `/api/admin/meetings`: create, list, read, change, delete, invite.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_proto::admin::{CreateMeeting, MeetingDetails, MeetingList, UpdateMeeting};

use crate::http::AppState;
use crate::ics;
use crate::meetings::{Meeting, MeetingChanges, MeetingError, NewMeeting, schedule_from};
use crate::storage::unix_now;
use crate::time::{parse_rfc3339, rfc3339};

use super::error::{ApiError, ApiJson};
use super::sessions::AdminSession;

/// The admin API's view of a meeting, with its links.
pub(crate) fn meeting_info(state: &AppState, m: &Meeting) -> MeetingDetails {
    let join_url = state.join_url(&m.code);
    MeetingDetails {
        code: m.code.to_string(),
        title: m.title.clone(),
        passcode: m.passcode.clone(),
        lobby: m.lobby,
        public: m.public,
        host_key: m.host_key.clone(),
        created_by: m.created_by.clone(),
        created_at: rfc3339(m.created_at),
        starts_at: m.schedule.map(|s| rfc3339(s.starts_at)),
        duration_minutes: m.schedule.map(|s| s.duration_minutes),
        weekly: m.schedule.is_some_and(|s| s.weekly),
        invite_url: m.schedule.map(|_| {
            format!(
                "{}/api/admin/meetings/{}/invite.ics",
                state.base_url(),
                m.code
            )
        }),
        join_url,
    }
}

fn parse_starts_at(text: &str) -> Result<i64, MeetingError> {
    parse_rfc3339(text).ok_or_else(|| MeetingError::StartsAt {
        value: text.to_owned(),
    })
}

fn new_meeting(body: CreateMeeting) -> Result<NewMeeting, MeetingError> {
    let starts_at = body.starts_at.as_deref().map(parse_starts_at).transpose()?;
    Ok(NewMeeting {
        title: body.title,
        passcode: body.passcode,
        lobby: body.lobby.unwrap_or(false),
        public: body.public.unwrap_or(false),
        schedule: schedule_from(starts_at, body.duration_minutes, body.weekly)?,
    })
}

fn changes(body: UpdateMeeting) -> Result<MeetingChanges, MeetingError> {
    let starts_at = match body.starts_at {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) => Some(Some(parse_starts_at(&text)?)),
    };
    Ok(MeetingChanges {
        title: body.title,
        passcode: body.passcode,
        lobby: body.lobby,
        public: body.public,
        starts_at,
        duration_minutes: body.duration_minutes,
        weekly: body.weekly,
    })
}

async fn find(state: &AppState, code: &str) -> Result<Meeting, ApiError> {
    state
        .meetings()
        .get(code)
        .await?
        .ok_or_else(|| ApiError::from(MeetingError::NotFound { code: code.into() }))
}

/// `GET /api/admin/meetings`.
pub(super) async fn list(
    State(state): State<AppState>,
    _session: AdminSession,
) -> Result<Json<MeetingList>, ApiError> {
    let meetings = state.meetings().list().await?;
    Ok(Json(MeetingList {
        meetings: meetings.iter().map(|m| meeting_info(&state, m)).collect(),
    }))
}

/// `POST /api/admin/meetings`: 201 with the meeting and its `Location`.
pub(super) async fn create(
    State(state): State<AppState>,
    session: AdminSession,
    ApiJson(body): ApiJson<CreateMeeting>,
) -> Result<Response, ApiError> {
    let new = new_meeting(body)?;
    let meeting = state.meetings().create(new, &session.username).await?;
    tracing::info!(code = %meeting.code, by = %session.username, "meeting created");
    let location = format!("/api/admin/meetings/{}", meeting.code);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(meeting_info(&state, &meeting)),
    )
        .into_response())
}

/// `GET /api/admin/meetings/{code}`.
pub(super) async fn show(
    State(state): State<AppState>,
    _session: AdminSession,
    Path(code): Path<String>,
) -> Result<Json<MeetingDetails>, ApiError> {
    let meeting = find(&state, &code).await?;
    Ok(Json(meeting_info(&state, &meeting)))
}

/// `PATCH /api/admin/meetings/{code}`.
pub(super) async fn update(
    State(state): State<AppState>,
    _session: AdminSession,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<UpdateMeeting>,
) -> Result<Json<MeetingDetails>, ApiError> {
    let meeting = state.meetings().update(&code, changes(body)?).await?;
    Ok(Json(meeting_info(&state, &meeting)))
}

/// `DELETE /api/admin/meetings/{code}`: 204.
pub(super) async fn remove(
    State(state): State<AppState>,
    session: AdminSession,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.meetings().delete(&code).await? {
        return Err(MeetingError::NotFound { code }.into());
    }
    tracing::info!(%code, by = %session.username, "meeting deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/meetings/{code}/invite.ics`.
pub(super) async fn invite(
    State(state): State<AppState>,
    _session: AdminSession,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let meeting = find(&state, &code).await?;
    let instance_id = state
        .storage()
        .call(|c| {
            c.query_row(
                "SELECT value FROM settings WHERE key = 'instance_id'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .await?;
    let join_url = state.join_url(&meeting.code);
    let text = ics::render(&ics::Invite {
        meeting: &meeting,
        join_url: &join_url,
        instance_id: &instance_id,
        now: unix_now(),
    })
    .ok_or(ApiError::NotScheduled)?;
    let disposition = format!("attachment; filename=\"{}.ics\"", meeting.code);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}
