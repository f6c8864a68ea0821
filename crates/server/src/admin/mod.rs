//! The admin side: the admin account, sessions, first-run setup, and the
//! JSON API under `/api/admin/` (docs/admin-api.md).
//!
//! Handlers that need a logged-in admin take an [`AdminSession`] argument;
//! it refuses the request before the handler runs.

mod accounts;
mod api;
mod error;
mod live;
mod login;
mod sessions;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{any, get, post};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use accounts::{
    ADMIN_USERNAME, MIN_PASSWORD_CHARS, SetMode, check_password_rules, password_is_set,
    set_password,
};
pub use error::{ApiError, AuthError};
pub use sessions::{AdminSession, COOKIE_NAME, CSRF_HEADER};

pub(crate) use login::complete_setup;
pub(crate) use sessions::session_cookie;

use crate::http::AppState;
use crate::ratelimit::{Limit, RateLimiter};
use crate::storage::random_hex;

/// Limits of the admin login. Tests tighten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// How long a login lasts (both its cookie and bearer sessions).
    pub session_ttl: Duration,
    /// Failed logins (or setup attempts) from one address within
    /// `failure_window` before further attempts get HTTP 429.
    pub max_failures: u32,
    pub failure_window: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            // A working day: the console is not left logged in overnight.
            session_ttl: Duration::from_secs(12 * 3600),
            max_failures: 5,
            failure_window: Duration::from_secs(5 * 60),
        }
    }
}

/// The admin side's in-memory state: the login limiter and the one-time
/// setup token.
#[derive(Debug)]
pub(crate) struct AdminState {
    config: AuthConfig,
    limiter: Mutex<RateLimiter>,
    /// SHA-256 of the current setup token, while one is outstanding. It is
    /// never stored: each start without a password prints a new one, and
    /// the previous one stops working (docs/decisions.md).
    setup_token: Mutex<Option<[u8; 32]>>,
}

impl AdminState {
    pub(crate) fn new(config: AuthConfig) -> Self {
        Self {
            limiter: Mutex::new(RateLimiter::new(Limit {
                max: config.max_failures,
                window: config.failure_window,
            })),
            config,
            setup_token: Mutex::new(None),
        }
    }

    pub(crate) fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Counts an attempt from `ip`, or refuses it with the wait.
    pub(crate) fn begin_attempt(&self, ip: IpAddr) -> Result<(), AuthError> {
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        limiter.attempt(ip, Instant::now()).map_err(|wait| {
            // Round up: "try again in 0 seconds" would be refused again.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            AuthError::TooManyAttempts {
                retry_after_secs: secs.max(1),
            }
        })
    }

    pub(crate) fn attempt_succeeded(&self, ip: IpAddr) {
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        limiter.forget(ip);
    }

    /// Makes a new setup token, replacing any earlier one.
    pub(crate) fn new_setup_token(&self) -> String {
        let token = random_hex(32);
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Sha256::digest(token.as_bytes()).into());
        token
    }

    /// Uses up the setup token if `token` is it.
    pub(crate) fn take_setup_token(&self, token: &str) -> Result<[u8; 32], AuthError> {
        let mut slot = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        let offered: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        match *slot {
            Some(expected) if bool::from(expected.ct_eq(&offered)) => {
                *slot = None;
                Ok(expected)
            }
            _ => Err(AuthError::InvalidSetupToken),
        }
    }

    /// Puts a taken token back after the password could not be stored, so
    /// the operator can retry with the same link.
    pub(crate) fn restore_setup_token(&self, hash: [u8; 32]) {
        let mut slot = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(hash);
    }
}

/// Routes of the admin JSON API.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/setup", post(login::setup))
        .route("/api/admin/login", post(login::login))
        .route("/api/admin/logout", post(login::logout))
        .route("/api/admin/session", get(login::session))
        .route("/api/admin/meetings", get(api::list).post(api::create))
        .route(
            "/api/admin/meetings/{code}",
            get(api::show).patch(api::update).delete(api::remove),
        )
        .route("/api/admin/meetings/{code}/invite.ics", get(api::invite))
        .merge(live::routes())
        .route("/api/admin/{*rest}", any(no_such_endpoint))
}

async fn no_such_endpoint() -> ApiError {
    ApiError::NoSuchEndpoint
}

#[cfg(test)]
mod tests;
