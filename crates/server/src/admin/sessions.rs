//! Admin sessions: random tokens whose SHA-256 is stored, so a copy of the
//! database does not hold a usable token.
//!
//! A login makes two sessions sharing one login id and CSRF token: a bearer
//! session whose token is returned in the body for scripts, and a cookie
//! session whose token only ever travels in an HttpOnly cookie, out of
//! reach of page scripts. A token is accepted only in the way it was issued.
//! Cookie sessions must send the CSRF token in `X-CSRF-Token` on every
//! request that is not GET or HEAD; bearer requests need not, because a
//! browser never attaches an `Authorization` header on its own.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use confab_proto::admin::SessionKind;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ServerError;
use crate::http::AppState;
use crate::storage::{Storage, random_hex, unix_now};

use super::error::{ApiError, AuthError};

/// Name of the browser session cookie.
pub const COOKIE_NAME: &str = "confab_admin";

/// Header a cookie session sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The tokens one login hands out.
#[derive(Debug, Clone)]
pub(crate) struct LoginTokens {
    pub bearer: String,
    pub cookie: String,
    pub csrf: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// An authenticated admin request. As a handler argument it refuses the
/// request unless a valid session (and, for cookies on a change, the CSRF
/// token) came with it.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub username: String,
    pub kind: SessionKind,
    pub csrf: String,
    pub login_id: String,
    /// Unix seconds.
    pub expires_at: i64,
}

fn token_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn kind_name(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Cookie => "cookie",
        SessionKind::Bearer => "bearer",
    }
}

/// Starts a login for `username` lasting `ttl`, and drops expired sessions.
pub(crate) async fn create_login(
    storage: &Storage,
    username: &str,
    ttl: Duration,
) -> Result<LoginTokens, ServerError> {
    let now = unix_now();
    let tokens = LoginTokens {
        bearer: random_hex(32),
        cookie: random_hex(32),
        csrf: random_hex(32),
        expires_at: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
    };
    let login_id = random_hex(16);
    let username = username.to_owned();
    let rows = [
        (token_id(&tokens.bearer), SessionKind::Bearer),
        (token_id(&tokens.cookie), SessionKind::Cookie),
    ];
    let (csrf, expires_at) = (tokens.csrf.clone(), tokens.expires_at);
    storage
        .call(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM admin_sessions WHERE expires_at <= ?1", [now])?;
            for (id, kind) in rows {
                tx.execute(
                    "INSERT INTO admin_sessions
                         (id, login_id, username, kind, csrf, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        login_id,
                        username,
                        kind_name(kind),
                        csrf,
                        now,
                        expires_at
                    ],
                )?;
            }
            tx.commit()
        })
        .await?;
    Ok(tokens)
}

/// The live session that `token` opens when presented as `kind`.
pub(crate) async fn find_session(
    storage: &Storage,
    token: &str,
    kind: SessionKind,
) -> Result<Option<AdminSession>, ServerError> {
    let id = token_id(token);
    storage
        .call(move |c| {
            c.query_row(
                "SELECT username, csrf, login_id, expires_at FROM admin_sessions
                 WHERE id = ?1 AND kind = ?2 AND expires_at > ?3",
                params![id, kind_name(kind), unix_now()],
                |r| {
                    Ok(AdminSession {
                        username: r.get(0)?,
                        kind,
                        csrf: r.get(1)?,
                        login_id: r.get(2)?,
                        expires_at: r.get(3)?,
                    })
                },
            )
            .optional()
        })
        .await
}

/// Ends both sessions of a login.
pub(crate) async fn end_login(storage: &Storage, login_id: &str) -> Result<(), ServerError> {
    let login_id = login_id.to_owned();
    storage
        .call(move |c| {
            c.execute("DELETE FROM admin_sessions WHERE login_id = ?1", [login_id])
                .map(drop)
        })
        .await
}

/// `Set-Cookie` value for a cookie session. `Secure` only when served over
/// TLS: a browser would not send a Secure cookie back over plain HTTP.
pub(crate) fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age_secs.max(0)
    )
}

/// The session token in the request and how it came: `Authorization:
/// Bearer` wins; a malformed `Authorization` header is refused rather than
/// passed over for the cookie.
fn presented_token(headers: &HeaderMap) -> Result<Option<(String, SessionKind)>, AuthError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Unauthenticated)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Unauthenticated);
        }
        return Ok(Some((token.trim().to_owned(), SessionKind::Bearer)));
    }
    Ok(cookie_value(headers, COOKIE_NAME).map(|t| (t, SessionKind::Cookie)))
}

/// The named cookie's value from every `Cookie` header.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, kind) = presented_token(&parts.headers)?.ok_or(AuthError::Unauthenticated)?;
        let session = find_session(state.storage(), &token, kind)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        if kind == SessionKind::Cookie && !is_safe_method(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(sent.ct_eq(session.csrf.as_bytes())) {
                return Err(AuthError::CsrfFailed.into());
            }
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_header_wins_and_a_malformed_one_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("confab_admin=c1"));
        assert_eq!(
            presented_token(&headers).unwrap(),
            Some(("c1".into(), SessionKind::Cookie))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer t1"));
        assert_eq!(
            presented_token(&headers).unwrap(),
            Some(("t1".into(), SessionKind::Bearer))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(presented_token(&headers).is_err());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; confab_admin=xyz"),
        );
        assert_eq!(cookie_value(&headers, COOKIE_NAME).as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&headers, "missing"), None);
    }

    #[test]
    fn session_cookie_is_http_only_strict_and_secure_only_over_tls() {
        let plain = session_cookie("tok", 60, false);
        assert_eq!(
            plain,
            "confab_admin=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        assert!(session_cookie("tok", 60, true).ends_with("; Secure"));
    }

    #[tokio::test]
    async fn tokens_work_only_the_way_they_were_issued_and_logout_ends_both() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        storage
            .call(|c| c.execute("INSERT INTO admins VALUES ('admin', 'x', 0, 0)", []))
            .await
            .unwrap();
        let tokens = create_login(&storage, "admin", Duration::from_secs(60))
            .await
            .unwrap();
        let stored: i64 = storage
            .call(|c| c.query_row("SELECT count(*) FROM admin_sessions", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(stored, 2);
        let bearer = find_session(&storage, &tokens.bearer, SessionKind::Bearer)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(bearer.csrf, tokens.csrf);
        for (token, kind) in [
            (&tokens.bearer, SessionKind::Cookie),
            (&tokens.cookie, SessionKind::Bearer),
        ] {
            assert!(find_session(&storage, token, kind).await.unwrap().is_none());
        }
        end_login(&storage, &bearer.login_id).await.unwrap();
        assert!(
            find_session(&storage, &tokens.cookie, SessionKind::Cookie)
                .await
                .unwrap()
                .is_none()
        );
    }
}
