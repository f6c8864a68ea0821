//! Test support: the router over a scratch database, and requests that
//! carry a client address as `into_make_service_with_connect_info` would.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use jiff::tz::TimeZone;
use tower::ServiceExt;

use crate::admin::{self, AuthConfig, SetMode};
use crate::http::{AppOptions, AppState, router};
use crate::storage::Storage;

pub(crate) const BASE: &str = "http://office.test:8443";
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) struct TestApp {
    pub(crate) router: Router,
    pub(crate) state: AppState,
    _dir: tempfile::TempDir,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The admin API error code of this answer.
    pub(crate) fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

pub(crate) fn app_with(auth: AuthConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path()).unwrap();
    let options = AppOptions {
        auth,
        time_zone: TimeZone::UTC,
        ..AppOptions::default()
    };
    let state = AppState::with_options(storage, BASE, options);
    TestApp {
        router: router(state.clone()),
        state,
        _dir: dir,
    }
}

pub(crate) fn app() -> TestApp {
    app_with(AuthConfig::default())
}

/// A request builder from client address 192.0.2.`host`.
pub(crate) fn request(method: Method, path: &str, host: u8) -> axum::http::request::Builder {
    let peer = SocketAddr::from(([192, 0, 2, host], 40_000));
    Request::builder()
        .method(method)
        .uri(path)
        .extension(ConnectInfo(peer))
}

pub(crate) fn json_body(
    builder: axum::http::request::Builder,
    body: serde_json::Value,
) -> Request<Body> {
    builder
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

impl TestApp {
    pub(crate) async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.send(request(Method::GET, path, 1).body(Body::empty()).unwrap())
            .await
    }

    pub(crate) async fn set_password(&self) {
        admin::set_password(self.state.storage(), PASSWORD, SetMode::Replace)
            .await
            .unwrap();
    }

    /// Logs in from address `host`: the bearer token, the CSRF token and
    /// the cookie session's token.
    pub(crate) async fn login(&self, host: u8) -> Login {
        let answer = self
            .send(json_body(
                request(Method::POST, "/api/admin/login", host),
                serde_json::json!({"password": PASSWORD}),
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let json = answer.json();
        let cookie = answer
            .header("set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Login {
            bearer: json["token"].as_str().unwrap().to_owned(),
            csrf: json["csrf"].as_str().unwrap().to_owned(),
            cookie,
        }
    }

    /// A JSON request with the bearer token.
    pub(crate) async fn bearer(
        &self,
        login: &Login,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let builder = request(method, path, 1)
            .header(header::AUTHORIZATION, format!("Bearer {}", login.bearer));
        let request = match body {
            Some(body) => json_body(builder, body),
            None => builder.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }
}

pub(crate) struct Login {
    pub(crate) bearer: String,
    pub(crate) csrf: String,
    /// `confab_admin=<token>`, as a browser sends it back.
    pub(crate) cookie: String,
}
