//! `/`: what is on today and in the coming week, and join by code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::AppState;
use crate::meetings::{Meeting, Occurrence, Visibility};
use crate::storage::unix_now;

use super::{escape, join_form, when, zone_name};

/// How far ahead the welcome page looks.
const HORIZON_SECS: i64 = 7 * 24 * 3600;

fn unavailable(error: crate::ServerError) -> Response {
    tracing::error!(error = %error, "welcome page could not read meetings");
    super::page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Confab",
        "This office's meeting server is running.",
        "<section><h2>Meetings are unavailable</h2><p>The server cannot read its \
         meetings right now. Try again in a minute; the administrator will find \
         the reason in the server's log.</p></section>",
    )
}

pub(super) async fn page(State(state): State<AppState>) -> Response {
    let now = unix_now();
    let meetings = state.meetings();
    let occurrences = meetings
        .occurrences_between(now, now + HORIZON_SECS, Visibility::PublicOnly)
        .await;
    let open_rooms = meetings.instant(Visibility::PublicOnly).await;
    let (occurrences, open_rooms) = match (occurrences, open_rooms) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let main = render(&state, &occurrences, &open_rooms, now);
    super::page(
        StatusCode::OK,
        "Confab",
        "This office's meeting server is running.",
        &main,
    )
}

fn render(
    state: &AppState,
    occurrences: &[Occurrence],
    open_rooms: &[Meeting],
    now: i64,
) -> String {
    let tz = state.time_zone();
    let mut main = format!(
        "<section><h2>Join a meeting</h2>{}\
         <p class=\"note\">Or open the link your host sent you.</p></section>",
        join_form("")
    );
    main.push_str("<section><h2>Today and the next 7 days</h2>");
    if occurrences.is_empty() {
        main.push_str("<p>No public meetings are scheduled for the next 7 days.</p>");
    } else {
        main.push_str("<ul class=\"meetings\">");
        for o in occurrences {
            let live = if o.starts_at <= now { "Now: " } else { "" };
            main.push_str(&format!(
                "<li><time>{live}{}</time><a href=\"/j/{}\">{}</a></li>",
                escape(&when(o.starts_at, o.ends_at, now, tz)),
                escape(o.meeting.code.as_str()),
                escape(&o.meeting.title),
            ));
        }
        main.push_str("</ul>");
        main.push_str(&format!(
            "<p class=\"note\">Times are in {}.</p>",
            escape(&zone_name(tz))
        ));
    }
    main.push_str("</section>");
    if !open_rooms.is_empty() {
        main.push_str("<section><h2>Open rooms</h2><ul class=\"meetings\">");
        for m in open_rooms {
            main.push_str(&format!(
                "<li><time>Any time</time><a href=\"/j/{}\">{}</a></li>",
                escape(m.code.as_str()),
                escape(&m.title),
            ));
        }
        main.push_str("</ul></section>");
    }
    main.push_str(
        "<section><h2>Get the app</h2><p>Confab runs on your desk as a desktop app. Ask \
         whoever runs this server for the installer, or build it from source with the run \
         command in the project's README. Joining from a web browser comes in a later \
         release.</p></section>\
         <section><h2>For administrators</h2><p>Meetings are managed at \
         <a href=\"/admin\"><code>/admin</code></a>. Server health: \
         <a href=\"/api/health\"><code>/api/health</code></a>.</p></section>",
    );
    main
}
