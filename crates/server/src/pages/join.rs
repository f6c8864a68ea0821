//! `/j/{code}`: one meeting's page, and `/j?code=` behind the join form.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use confab_proto::GuestMeeting;
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
    let now = unix_now();
    let title = format!("{} · Confab", meeting.title);
    if let Some(template) = crate::assets::guest_template() {
        let data = GuestMeeting {
            code: meeting.code.as_str().to_owned(),
            title: meeting.title.clone(),
            passcode_required: meeting.passcode.is_some(),
            lobby: meeting.lobby,
            not_open: state.not_open(&meeting, now),
        };
        let details = render(&state, &meeting, now, NO_SCRIPT);
        match guest_page(&template, &title, &data, &details) {
            Some(html) => {
                return (
                    StatusCode::OK,
                    [(header::CACHE_CONTROL, "no-cache")],
                    Html(html),
                )
                    .into_response();
            }
            None => {
                tracing::warn!("guest.html lacks the {GUEST_MARKER} marker; serving the plain page")
            }
        }
    }
    let main = render(&state, &meeting, now, NOT_BUILT);
    page(StatusCode::OK, &title, "Join a meeting", &main)
}

/// Where `ui/guest.html` takes the meeting's data and the no-script page.
pub(super) const GUEST_MARKER: &str = "<!--confab:meeting-->";

/// What the browser section says inside `<noscript>` of the guest page.
const NO_SCRIPT: &str = "Joining from this browser needs JavaScript, which is turned off. \
                         Turn it on and reload this page, or use the Confab app.";
/// What it says when the server was built without the web UI.
const NOT_BUILT: &str = "Joining from a web browser is not available on this server: its \
                         web UI was not built in. For now you need the Confab app.";

/// The guest page: `template` (ui/dist/guest.html) with the page title,
/// the meeting as JSON for the script, and `details` (server-rendered HTML)
/// for browsers without JavaScript. `None` if the template has no marker.
pub(super) fn guest_page(
    template: &str,
    title: &str,
    data: &GuestMeeting,
    details: &str,
) -> Option<String> {
    let at = template.find(GUEST_MARKER)?;
    // `<` never appears raw inside the script, so a title like
    // "</script>" cannot end it early; JSON reads \u003c back as `<`.
    let json = serde_json::to_string(data).ok()?.replace('<', "\\u003c");
    let injected = format!(
        "<script id=\"confab-meeting\" type=\"application/json\">{json}</script>\
         <noscript><main class=\"noscript\">{details}</main></noscript>"
    );
    let mut html = String::with_capacity(template.len() + injected.len());
    html.push_str(&template[..at]);
    html.push_str(&injected);
    html.push_str(&template[at + GUEST_MARKER.len()..]);
    Some(html.replacen(
        "<title>Confab</title>",
        &format!("<title>{}</title>", escape(title)),
        1,
    ))
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

/// The meeting's details and how to join; `browser` is the sentence for
/// joining from a browser (plain text).
fn render(state: &AppState, meeting: &Meeting, now: i64, browser: &str) -> String {
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
         <section><h2>From a web browser</h2><p>{}</p></section>",
        escape(&join_url),
        escape(meeting.code.as_str()),
        escape(browser),
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
