//! `/admin` and `/admin/setup`: where the printed set-up link leads.
//!
//! The setup form works without JavaScript: it posts an ordinary form to
//! `/admin/setup`, which sets the password through the same code as
//! `POST /api/admin/setup`. The form needs no CSRF token because the setup
//! token in it is itself the secret a forged request would lack.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::admin::{self, MIN_PASSWORD_CHARS, complete_setup, session_cookie};
use crate::http::AppState;

use super::{escape, page};

const TAGLINE: &str = "Administration";

#[derive(Debug, Deserialize)]
pub(super) struct SetupQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

const NO_PASSWORD_YET: &str = "<p>This server has no admin password yet. Open the set-up link \
     that the server printed when it started (it starts with <code>/admin/setup?token=</code>), \
     or run <code>confab-server admin set-password</code> on the server.</p>";

/// `GET /admin/setup?token=…`: the form.
pub(super) async fn form(
    State(state): State<AppState>,
    Query(query): Query<SetupQuery>,
) -> Response {
    match admin::password_is_set(state.storage()).await {
        Ok(true) => already_set_up(),
        _ if query.token.is_empty() => page(
            StatusCode::BAD_REQUEST,
            "Set-up · Confab",
            TAGLINE,
            &format!("<section><h2>Set-up link incomplete</h2>{NO_PASSWORD_YET}</section>"),
        ),
        _ => setup_page(StatusCode::OK, &query.token, None),
    }
}

/// `POST /admin/setup`: sets the password, logs the browser in, and goes
/// on to `/admin`.
pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<SetupForm>,
) -> Response {
    if form.password != form.confirm {
        let message = "The two passwords differ; type the same password twice.";
        return setup_page(StatusCode::BAD_REQUEST, &form.token, Some(message));
    }
    match complete_setup(&state, peer.ip(), &form.token, &form.password).await {
        Ok(tokens) => {
            let max_age =
                i64::try_from(state.admin().config().session_ttl.as_secs()).unwrap_or(i64::MAX);
            let cookie = session_cookie(&tokens.cookie, max_age, state.is_tls());
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/admin".to_owned()),
                    (header::SET_COOKIE, cookie),
                ],
            )
                .into_response()
        }
        Err(error)
            if matches!(
                error.code(),
                confab_proto::admin::AdminErrorCode::AlreadySetUp
            ) =>
        {
            already_set_up()
        }
        Err(error) => setup_page(error.status(), &form.token, Some(&error.message())),
    }
}

fn already_set_up() -> Response {
    page(
        StatusCode::CONFLICT,
        "Set-up · Confab",
        TAGLINE,
        "<section><h2>Already set up</h2><p>This server has an admin password. Go to \
         <a href=\"/admin\">administration</a>. To change the password, run \
         <code>confab-server admin set-password</code> on the server.</p></section>",
    )
}

fn setup_page(status: StatusCode, token: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let main = format!(
        "<section><h2>Choose the admin password</h2>\
         <p>This password protects meetings and settings of this server. Use at least \
         {MIN_PASSWORD_CHARS} characters.</p>{error}\
         <form class=\"stacked\" method=\"post\" action=\"/admin/setup\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <label for=\"password\">New password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"{MIN_PASSWORD_CHARS}\" required>\
         <label for=\"confirm\">Same password again</label>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"{MIN_PASSWORD_CHARS}\" required>\
         <button type=\"submit\">Set password</button></form></section>",
        escape(token)
    );
    page(status, "Set-up · Confab", TAGLINE, &main)
}
