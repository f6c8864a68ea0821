//! Server-rendered HTML: the welcome page, join pages and the admin setup
//! page. None of them touches signalling, so visiting them never takes a
//! seat.
//!
//! Pages are `assets/page.html` with its `{{...}}` slots filled in one pass,
//! so text that itself contains `{{` is never filled again. Every string
//! that a person typed (titles, codes from the URL, error echoes) goes
//! through [`escape`] before it is placed in HTML.

mod join;
mod setup;
mod welcome;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use jiff::tz::TimeZone;

use crate::http::AppState;
use crate::time::to_timestamp;

const LAYOUT: &str = include_str!("../../assets/page.html");

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(welcome::page))
        .route("/j", get(join::by_code))
        .route("/j/{code}", get(join::page_for_code))
        .route("/admin/setup", get(setup::form).post(setup::submit))
}

/// Text made safe to place in HTML content and in quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces each `{{name}}` in `template` with its value, in one pass over
/// the template only.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        match values.iter().find(|(k, _)| *k == name) {
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// A whole page. `title` and `tagline` are plain text; `main` is HTML the
/// caller built with [`escape`].
pub(crate) fn page(status: StatusCode, title: &str, tagline: &str, main: &str) -> Response {
    let html = fill(
        LAYOUT,
        &[
            ("title", &escape(title)),
            ("tagline", &escape(tagline)),
            ("main", main),
            ("version", env!("CARGO_PKG_VERSION")),
        ],
    );
    (status, Html(html)).into_response()
}

/// The join-by-code form; `value` is what the person typed before, if any.
pub(crate) fn join_form(value: &str) -> String {
    format!(
        "<form action=\"/j\" method=\"get\">\
         <label for=\"code\">Meeting code</label> \
         <input id=\"code\" name=\"code\" placeholder=\"kqz-rmtp-wfa\" value=\"{}\" \
         autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" required> \
         <button type=\"submit\">Join</button></form>",
        escape(value)
    )
}

/// "Today 09:00–09:30", "Tomorrow 14:00–15:00", "Wed 2 Dec 10:00–11:00"
/// in `tz`, for an occurrence `[start, end)` seen at `now`.
pub(crate) fn when(start: i64, end: i64, now: i64, tz: &TimeZone) -> String {
    let start_z = to_timestamp(start).to_zoned_datetime(tz.clone());
    let end_z = to_timestamp(end).to_zoned_datetime(tz.clone());
    let end_fmt = if end_z.date() == start_z.date() {
        "%H:%M"
    } else {
        "%a %H:%M"
    };
    format!("{}–{}", moment(start, now, tz), end_z.strftime(end_fmt))
}

/// "Today 08:45", "Tomorrow 08:45", "Wed 2 Dec 08:45" in `tz`.
pub(crate) fn moment(t: i64, now: i64, tz: &TimeZone) -> String {
    let zoned = to_timestamp(t).to_zoned_datetime(tz.clone());
    let today = to_timestamp(now).to_zoned_datetime(tz.clone()).date();
    let day = match today.until(zoned.date()).map(|span| span.get_days()) {
        Ok(0) => "Today".to_owned(),
        Ok(1) => "Tomorrow".to_owned(),
        _ => zoned.strftime("%a %-d %b").to_string(),
    };
    format!("{day} {}", zoned.strftime("%H:%M"))
}

/// How the pages name their time zone: "Europe/Berlin", or "UTC".
pub(crate) fn zone_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("UTC").to_owned()
}

#[cfg(test)]
mod tests;
