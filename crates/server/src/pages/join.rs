//! `/j/{code}`: one meeting's page, and `/j?code=` behind the join form.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::meetings::{Liveness, Meeting, MeetingCode, Schedule};
use crate::storage::unix_now;

use super::{escape, join_form, moment, page, when, zone_name};

#[derive(Debug, Deserialize)]
pub(super) struct JoinQuery {
    #[serde(default)]
    code: String,
}

/// The join form's target: sends a code typed in any shape to its page.
pub(super) async fn by_code(Query(query): Query<JoinQuery>) -> Response {
    match MeetingCode::parse(&query.code) {
        Some(code) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("/j/{code}"))],
        )
            .into_response(),
        None => {
            let main = format!(
                "<section><h2>Join a meeting</h2>\
                 <p class=\"error\">A meeting code has 10 letters, like kqz-rmtp-wfa.</p>{}\
                 </section>",
                join_form(&query.code)
            );
            page(
                StatusCode::BAD_REQUEST,
                "Join a meeting · Confab",
                "Join a meeting",
                &main,
            )
        }
    }
}

pub(super) async fn page_for_code(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Response {
    let meeting = match state.meetings().get(&code).await {
        Ok(Some(meeting)) => meeting,
        Ok(None) => return not_found(&code),
        Err(error) => {
            tracing::error!(error = %error, "join page could not read the meeting");
            let main = "<section><h2>Try again in a minute</h2><p>The server cannot read \
                        its meetings right now.</p></section>";
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Confab",
                "Join a meeting",
                main,
            );
        }
    };
    let title = format!("{} · Confab", meeting.title);
    let main = render(&state, &meeting, unix_now());
    page(StatusCode::OK, &title, "Join a meeting", &main)
}

fn not_found(code: &str) -> Response {
    let main = format!(
        "<section><h2>Meeting not found</h2>\
         <p>No meeting has the code <code>{}</code>. Check the link or the code with whoever \
         invited you; the meeting may also have been deleted.</p>{}</section>",
        escape(code),
        join_form("")
    );
    page(
        StatusCode::NOT_FOUND,
        "Meeting not found · Confab",
        "Join a meeting",
        &main,
    )
}

fn render(state: &AppState, meeting: &Meeting, now: i64) -> String {
    let join_url = state.join_url(&meeting.code);
    let mut main = format!(
        "<section><h2>{}</h2>{}",
        escape(&meeting.title),
        timing(state, meeting, now)
    );
    if meeting.passcode.is_some() {
        main.push_str("<p>This meeting has a passcode: the host gives it with the invitation.</p>");
    }
    if meeting.lobby {
        main.push_str("<p>You wait in the lobby until the host lets you in.</p>");
    }
    main.push_str(&format!(
        "</section><section><h2>Join with the Confab app</h2>\
         <p>Start Confab on your computer, choose Join, and paste this link:</p>\
         <p><input class=\"link\" readonly value=\"{}\" aria-label=\"Join link\"></p>\
         <p>Or type the meeting code: <code>{}</code></p></section>\
         <section><h2>From a web browser</h2><p>Joining from a web browser is not \
         available yet; it comes in a later release. For now you need the Confab app.</p>\
         </section>",
        escape(&join_url),
        escape(meeting.code.as_str()),
    ));
    main
}

/// When the meeting is, and whether it can be joined now.
fn timing(state: &AppState, meeting: &Meeting, now: i64) -> String {
    let Some(schedule) = meeting.schedule else {
        return "<p>Open any time.</p>".to_owned();
    };
    let tz = state.time_zone();
    let status = match meeting.liveness(now) {
        Liveness::Open => "It is open: you can join now.".to_owned(),
        Liveness::NotYet { opens_at } => format!(
            "It opens 15 minutes before the start: {}.",
            moment(opens_at, now, tz)
        ),
        Liveness::Ended { .. } => "This meeting has ended.".to_owned(),
    };
    let slot = next_slot(&schedule, now);
    let repeat = if schedule.weekly { ", every week" } else { "" };
    format!(
        "<p><time>{}</time>{repeat} ({}).</p><p>{}</p>",
        escape(&when(slot.0, slot.1, now, tz)),
        escape(&zone_name(tz)),
        escape(&status),
    )
}

/// The occurrence to show: the current or next one, or the last for an
/// ended one-off meeting.
fn next_slot(schedule: &Schedule, now: i64) -> (i64, i64) {
    match schedule.first_slot_ending_after(now) {
        Some(slot) => (slot.starts_at, slot.ends_at),
        None => (
            schedule.starts_at,
            schedule.starts_at + schedule.duration_secs(),
        ),
    }
}
