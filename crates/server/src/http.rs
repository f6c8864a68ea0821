//! The HTTP surface: welcome and join pages, the admin API, health.
//!
//! [`router`] builds the whole application without I/O, so tests drive it
//! with `tower::ServiceExt::oneshot` and never open a socket. Handlers that
//! read the client address use `ConnectInfo<SocketAddr>`: serve with
//! `into_make_service_with_connect_info`, and give tests the extension.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use confab_proto::{Health, HealthStatus, PROTOCOL_VERSION};
use jiff::tz::TimeZone;

use crate::admin::{self, AdminState, AuthConfig};
use crate::error::ServerError;
use crate::meetings::{Liveness, MeetingCode, Meetings};
use crate::pages;
use crate::storage::Storage;
use crate::ws::{Lookup, Signalling, SignallingLimits};

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    storage: Storage,
    meetings: Meetings,
    admin: AdminState,
    base_url: String,
    time_zone: TimeZone,
    started: Instant,
    signalling: Arc<Signalling>,
}

/// Settings of the HTTP side that tests change.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub auth: AuthConfig,
    /// Zone the welcome and join pages show times in: the server's own,
    /// since the office it serves shares it.
    pub time_zone: TimeZone,
    /// Heartbeat timeout and per-address limits on signalling.
    pub signalling: SignallingLimits,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            auth: AuthConfig::default(),
            time_zone: TimeZone::try_system().unwrap_or(TimeZone::UTC),
            signalling: SignallingLimits::default(),
        }
    }
}

impl AppState {
    /// `base_url` (like `http://office:8443`, no trailing slash) starts
    /// every link the server hands out: join links, invitations, setup.
    pub fn new(storage: Storage, base_url: impl Into<String>) -> Self {
        Self::with_options(storage, base_url, AppOptions::default())
    }

    pub fn with_options(
        storage: Storage,
        base_url: impl Into<String>,
        options: AppOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                meetings: Meetings::new(storage.clone()),
                storage,
                admin: AdminState::new(options.auth),
                base_url: base_url.into().trim_end_matches('/').to_owned(),
                time_zone: options.time_zone,
                started: Instant::now(),
                // The free tier until the caller applies the installed licence.
                signalling: Signalling::new(confab_license::FREE_TIER_SEATS, options.signalling),
            }),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    pub fn meetings(&self) -> &Meetings {
        &self.inner.meetings
    }

    pub fn signalling(&self) -> &Arc<Signalling> {
        &self.inner.signalling
    }

    /// Whether a `join` for `code` may enter a live meeting now.
    pub async fn lookup_meeting(&self, code: &str) -> Result<Lookup, ServerError> {
        let Some(meeting) = self.meetings().get(code).await? else {
            return Ok(Lookup::NotFound);
        };
        let now = jiff::Timestamp::now().as_second();
        if let Some(sentence) = self.not_open(&meeting, now) {
            return Ok(Lookup::NotOpen(sentence));
        }
        Ok(Lookup::Open(crate::hub::MeetingRecord {
            code: meeting.code.as_str().to_string(),
            title: meeting.title,
            passcode: meeting.passcode,
            lobby: meeting.lobby,
            host_key: meeting.host_key,
        }))
    }

    /// Why `meeting` cannot be joined at `now`, as the sentence people see
    /// (in `meeting_not_open` errors and on the guest page); `None` when open.
    pub(crate) fn not_open(&self, meeting: &crate::meetings::Meeting, now: i64) -> Option<String> {
        let when = |secs: i64| crate::pages::moment(secs, now, self.time_zone());
        match meeting.liveness(now) {
            Liveness::Open => None,
            Liveness::NotYet { opens_at } => Some(format!(
                "This meeting opens at {}, 15 minutes before it starts.",
                when(opens_at)
            )),
            Liveness::Ended { ended_at } => {
                Some(format!("This meeting ended at {}.", when(ended_at)))
            }
        }
    }

    /// Start of every link, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// `<base>/j/<code>`.
    pub fn join_url(&self, code: &MeetingCode) -> String {
        format!("{}/j/{code}", self.inner.base_url)
    }

    /// When no admin password is set yet: makes a fresh one-time setup
    /// token (voiding any earlier one) and returns the link to print.
    /// `None` once a password exists.
    pub async fn admin_setup_link(&self) -> Result<Option<String>, ServerError> {
        if admin::password_is_set(self.storage()).await? {
            return Ok(None);
        }
        let token = self.inner.admin.new_setup_token();
        Ok(Some(format!(
            "{}/admin/setup?token={token}",
            self.inner.base_url
        )))
    }

    pub(crate) fn admin(&self) -> &AdminState {
        &self.inner.admin
    }

    pub(crate) fn time_zone(&self) -> &TimeZone {
        &self.inner.time_zone
    }

    /// Whether links (and so cookies) go over TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.inner.base_url.starts_with("https://")
    }
}

/// The server's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/ws", get(crate::ws::upgrade))
        .route("/metrics", get(metrics))
        .route("/admin", get(crate::assets::admin_page))
        .route("/assets/{name}", get(crate::assets::asset))
        .merge(pages::routes())
        .merge(admin::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Response {
    let database_ok = state.inner.storage.ping().await;
    let status = if database_ok {
        HealthStatus::Ok
    } else {
        HealthStatus::Degraded
    };
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        uptime_seconds: state.inner.started.elapsed().as_secs(),
        database_ok,
    };
    // Monitoring treats a non-2xx as "down"; a degraded server is down for
    // anything that needs its database.
    let code = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.signalling().render_metrics(),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found. The welcome page is at /.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn app() -> (Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        (router(AppState::new(storage, "http://confab.test")), dir)
    }

    async fn get_path(app: Router, path: &str) -> (StatusCode, String, String) {
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn health_reports_ok_with_version_and_database() {
        let (app, _dir) = app();
        let (status, content_type, body) = get_path(app, "/api/health").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("application/json"));
        let health: Health = serde_json::from_str(&body).unwrap();
        assert_eq!(health.status, HealthStatus::Ok);
        assert!(health.database_ok);
        assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(health.protocol, PROTOCOL_VERSION);
    }

    #[tokio::test]
    async fn welcome_page_is_html_naming_the_product_and_version() {
        let (app, _dir) = app();
        let (status, content_type, body) = get_path(app, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/html"));
        assert!(body.contains("<title>Confab</title>"));
        assert!(body.contains(env!("CARGO_PKG_VERSION")));
        assert!(!body.contains("{{"), "every placeholder is filled");
    }

    #[tokio::test]
    async fn unknown_paths_get_a_plain_404_pointing_home() {
        let (app, _dir) = app();
        let (status, _, body) = get_path(app, "/no/such/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("welcome page"));
    }
}
