//! Setup, login, logout and the session endpoint.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use confab_proto::admin::{LoginRequest, LoginResponse, SessionInfo, SetupRequest};

use crate::http::AppState;
use crate::time::rfc3339;

use super::accounts::{
    self, ADMIN_USERNAME, SetMode, check_password_rules, password_is_set, verify_password,
};
use super::error::{ApiError, ApiJson, AuthError};
use super::sessions::{self, AdminSession, LoginTokens, session_cookie};

/// `POST /api/admin/setup`.
pub(super) async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<SetupRequest>,
) -> Result<Response, ApiError> {
    let tokens = complete_setup(&state, peer.ip(), &body.token, &body.password).await?;
    Ok(login_response(&state, &tokens))
}

/// Sets the first admin password with the one-time token and logs in. The
/// setup page's form and the JSON endpoint both end here.
pub(crate) async fn complete_setup(
    state: &AppState,
    ip: IpAddr,
    token: &str,
    password: &str,
) -> Result<LoginTokens, ApiError> {
    // These two reveal nothing about the token, so they do not count
    // towards the address's attempts.
    if password_is_set(state.storage()).await? {
        return Err(AuthError::AlreadySetUp.into());
    }
    check_password_rules(password)?;
    let admin = state.admin();
    admin.begin_attempt(ip)?;
    let taken = admin.take_setup_token(token)?;
    if let Err(failed) =
        accounts::set_password(state.storage(), password, SetMode::CreateOnly).await
    {
        admin.restore_setup_token(taken);
        return Err(failed.into());
    }
    admin.attempt_succeeded(ip);
    tracing::info!(%ip, "admin password set through the setup link");
    let ttl = admin.config().session_ttl;
    Ok(sessions::create_login(state.storage(), ADMIN_USERNAME, ttl).await?)
}

/// `POST /api/admin/login`.
pub(super) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let ip = peer.ip();
    let admin = state.admin();
    admin.begin_attempt(ip)?;
    let outcome = verify_password(state.storage(), &body.password).await;
    let succeeded = outcome.is_ok();
    if matches!(outcome, Ok(_) | Err(AuthError::WrongPassword)) {
        accounts::record_attempt(state.storage(), ip, succeeded).await?;
    }
    let username = outcome?;
    admin.attempt_succeeded(ip);
    let ttl = admin.config().session_ttl;
    let tokens = sessions::create_login(state.storage(), &username, ttl).await?;
    Ok(login_response(&state, &tokens))
}

/// The login answer: the bearer token and CSRF token in the body, the
/// cookie session in `Set-Cookie`.
pub(crate) fn login_response(state: &AppState, tokens: &LoginTokens) -> Response {
    let max_age = i64::try_from(state.admin().config().session_ttl.as_secs()).unwrap_or(i64::MAX);
    let cookie = session_cookie(&tokens.cookie, max_age, state.is_tls());
    let body = LoginResponse {
        token: tokens.bearer.clone(),
        csrf: tokens.csrf.clone(),
        expires_at: rfc3339(tokens.expires_at),
    };
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

/// `POST /api/admin/logout`: ends the login (cookie and bearer alike) and
/// clears the cookie.
pub(super) async fn logout(
    State(state): State<AppState>,
    session: AdminSession,
) -> Result<Response, ApiError> {
    sessions::end_login(state.storage(), &session.login_id).await?;
    let cleared = session_cookie("", 0, state.is_tls());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

/// `GET /api/admin/session`.
pub(super) async fn session(session: AdminSession) -> Json<SessionInfo> {
    Json(SessionInfo {
        username: session.username,
        kind: session.kind,
        csrf: session.csrf,
        expires_at: rfc3339(session.expires_at),
    })
}
