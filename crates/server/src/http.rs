//! The HTTP surface: welcome page and JSON API.
//!
//! [`router`] builds the whole application without I/O, so tests drive it
//! with `tower::ServiceExt::oneshot` and never open a socket.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use confab_proto::{Health, HealthStatus, PROTOCOL_VERSION};

use crate::error::ServerError;
use crate::meetings::{Liveness, MeetingCode, Meetings};
use crate::storage::Storage;
use crate::ws::{Lookup, Signalling};

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    storage: Storage,
    started: Instant,
    signalling: Arc<Signalling>,
}

impl AppState {
    pub fn new(storage: Storage, signalling: Arc<Signalling>) -> Self {
        Self {
            inner: Arc::new(Inner {
                storage,
                started: Instant::now(),
                signalling,
            }),
        }
    }

    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    pub fn signalling(&self) -> &Arc<Signalling> {
        &self.inner.signalling
    }

    /// Whether a `join` for `code` may enter a live meeting now.
    pub async fn lookup_meeting(&self, code: &str) -> Result<Lookup, ServerError> {
        let Some(code) = MeetingCode::parse(code) else {
            return Ok(Lookup::NotFound);
        };
        let Some(meeting) = Meetings::new(self.storage().clone())
            .get(code.as_str())
            .await?
        else {
            return Ok(Lookup::NotFound);
        };
        let now = confab_license::Timestamp::now();
        let when = |secs: i64| {
            confab_license::Timestamp::from_second(secs)
                .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        };
        Ok(match meeting.liveness(now.as_second()) {
            Liveness::Open => Lookup::Open(crate::hub::MeetingRecord {
                code: meeting.code.as_str().to_string(),
                title: meeting.title,
                passcode: meeting.passcode,
                lobby: meeting.lobby,
                host_key: meeting.host_key,
            }),
            Liveness::NotYet { opens_at } => Lookup::NotOpen(format!(
                "This meeting opens at {}, 15 minutes before it starts.",
                when(opens_at)
            )),
            Liveness::Ended { ended_at } => {
                Lookup::NotOpen(format!("This meeting ended at {}.", when(ended_at)))
            }
        })
    }
}

/// The server's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(welcome_page))
        .route("/api/health", get(health))
        .route("/ws", get(crate::ws::upgrade))
        .route("/metrics", get(metrics))
        .route("/admin", get(crate::assets::admin_page))
        .route("/admin/setup", get(crate::assets::admin_page))
        .route("/assets/{name}", get(crate::assets::asset))
        .fallback(not_found)
        .with_state(state)
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

async fn welcome_page() -> Html<String> {
    Html(include_str!("../assets/welcome.html").replace("{{version}}", env!("CARGO_PKG_VERSION")))
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
        let signalling = Signalling::new(5, crate::ws::SignallingLimits::default());
        (router(AppState::new(storage, signalling)), dir)
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
