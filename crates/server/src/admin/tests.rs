//! The admin API through the router, as a script or the console uses it.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

use super::AuthConfig;
use crate::testing::{BASE, PASSWORD, app, app_with, json_body, request};

#[tokio::test]
async fn unauthenticated_requests_get_401_in_the_error_shape() {
    let app = app();
    app.set_password().await;
    for (method, path) in [
        (Method::GET, "/api/admin/meetings"),
        (Method::POST, "/api/admin/meetings"),
        (Method::GET, "/api/admin/session"),
        (Method::DELETE, "/api/admin/meetings/kqz-rmtp-wfa"),
    ] {
        let answer = app
            .send(json_body(
                request(method.clone(), path, 1),
                json!({"title": "x"}),
            ))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.code(), "unauthenticated");
        assert!(answer.json()["message"].as_str().unwrap().ends_with('.'));
        assert!(answer.header("www-authenticate").starts_with("Bearer"));
    }
    let forged = app
        .send(
            request(Method::GET, "/api/admin/meetings", 1)
                .header(header::AUTHORIZATION, "Bearer 00ff00ff")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_gives_a_bearer_token_and_an_http_only_strict_cookie() {
    let app = app();
    app.set_password().await;
    let answer = app
        .send(json_body(
            request(Method::POST, "/api/admin/login", 1),
            json!({"password": PASSWORD}),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let cookie = answer.header("set-cookie");
    for part in ["confab_admin=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let body = answer.json();
    assert_eq!(body["token"].as_str().unwrap().len(), 64);
    assert!(
        !cookie.contains(body["token"].as_str().unwrap()),
        "the cookie's token is not the one in the body"
    );

    let wrong = app
        .send(json_body(
            request(Method::POST, "/api/admin/login", 1),
            json!({"password": "not the password"}),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "wrong_password");
}

#[tokio::test]
async fn bearer_sessions_make_changes_without_a_csrf_token() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let created = app
        .bearer(
            &login,
            Method::POST,
            "/api/admin/meetings",
            Some(json!({"title": "Stand-up"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let session = app
        .bearer(&login, Method::GET, "/api/admin/session", None)
        .await;
    assert_eq!(session.json()["kind"], "bearer");
    assert_eq!(session.json()["username"], "admin");
    assert_eq!(session.json()["csrf"], login.csrf.as_str());
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header_for_changes() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let post = |csrf: Option<&str>| {
        let mut builder =
            request(Method::POST, "/api/admin/meetings", 1).header(header::COOKIE, &login.cookie);
        if let Some(csrf) = csrf {
            builder = builder.header("X-CSRF-Token", csrf);
        }
        json_body(builder, json!({"title": "Board"}))
    };
    for refused in [post(None), post(Some("0123")), post(Some(""))] {
        let answer = app.send(refused).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.code(), "csrf_failed");
    }
    let accepted = app.send(post(Some(&login.csrf))).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);

    let read = app
        .send(
            request(Method::GET, "/api/admin/meetings", 1)
                .header(header::COOKIE, &login.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "reading needs no CSRF token");
    assert_eq!(read.json()["meetings"].as_array().unwrap().len(), 1);

    let cookie_as_bearer = app
        .send(
            request(Method::GET, "/api/admin/meetings", 1)
                .header(
                    header::AUTHORIZATION,
                    format!(
                        "Bearer {}",
                        login.cookie.trim_start_matches("confab_admin=")
                    ),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        cookie_as_bearer.status,
        StatusCode::UNAUTHORIZED,
        "a cookie token cannot dodge CSRF as a bearer token"
    );
}

#[tokio::test]
async fn logout_ends_the_cookie_and_bearer_sessions_of_the_login() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let out = app
        .bearer(&login, Method::POST, "/api/admin/logout", None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    let after = app
        .bearer(&login, Method::GET, "/api/admin/session", None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let cookie = app
        .send(
            request(Method::GET, "/api/admin/session", 1)
                .header(header::COOKIE, &login.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(cookie.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_failures_are_rate_limited_per_address() {
    let app = app_with(AuthConfig {
        max_failures: 3,
        failure_window: Duration::from_secs(60),
        ..AuthConfig::default()
    });
    app.set_password().await;
    let attempt = |host: u8, password: &str| {
        json_body(
            request(Method::POST, "/api/admin/login", host),
            json!({"password": password}),
        )
    };
    for _ in 0..3 {
        let answer = app.send(attempt(7, "guess guess guess")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app.send(attempt(7, PASSWORD)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "too_many_attempts");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(
        limited.json()["message"]
            .as_str()
            .unwrap()
            .contains("Try again in")
    );

    let elsewhere = app.send(attempt(8, PASSWORD)).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::OK,
        "another address is unaffected"
    );

    let recorded: i64 = app
        .state
        .storage()
        .call(|c| {
            c.query_row(
                "SELECT count(*) FROM admin_login_attempts WHERE succeeded = 0",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(
        recorded, 3,
        "failed attempts are kept for the administrator"
    );
}

#[tokio::test]
async fn the_setup_token_sets_the_password_once() {
    let app = app();
    let before = app
        .send(json_body(
            request(Method::POST, "/api/admin/login", 1),
            json!({"password": PASSWORD}),
        ))
        .await;
    assert_eq!(before.status, StatusCode::CONFLICT);
    assert_eq!(before.code(), "setup_required");

    let link = app.state.admin_setup_link().await.unwrap().unwrap();
    let prefix = format!("{BASE}/admin/setup?token=");
    assert!(link.starts_with(&prefix), "{link}");
    let token = link.trim_start_matches(&prefix).to_owned();
    let setup = |token: &str, password: &str| {
        json_body(
            request(Method::POST, "/api/admin/setup", 1),
            json!({"token": token, "password": password}),
        )
    };

    let wrong = app.send(setup("not-the-token", PASSWORD)).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.code(), "invalid_setup_token");
    let short = app.send(setup(&token, "short")).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert_eq!(short.code(), "password_too_short");

    let done = app.send(setup(&token, PASSWORD)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.json()["token"].is_string(), "setup logs in");
    assert!(done.header("set-cookie").contains("confab_admin="));

    let again = app.send(setup(&token, "another long password")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_set_up");
    assert_eq!(app.state.admin_setup_link().await.unwrap(), None);
    app.login(1).await;
}

#[tokio::test]
async fn a_new_setup_link_voids_the_previous_one() {
    let app = app();
    let first = app.state.admin_setup_link().await.unwrap().unwrap();
    let _second = app.state.admin_setup_link().await.unwrap().unwrap();
    let token = first.rsplit('=').next().unwrap();
    let answer = app
        .send(json_body(
            request(Method::POST, "/api/admin/setup", 1),
            json!({"token": token, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(answer.code(), "invalid_setup_token");
}

#[tokio::test]
async fn meetings_are_created_listed_changed_and_deleted() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let body = json!({
        "title": "Weekly planning", "passcode": "4711", "lobby": true, "public": true,
        "starts_at": "2026-11-30T10:00:00+01:00", "duration_minutes": 45, "weekly": true
    });
    let created = app
        .bearer(&login, Method::POST, "/api/admin/meetings", Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let m = created.json();
    let code = m["code"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/admin/meetings/{code}")
    );
    assert_eq!(m["join_url"], format!("{BASE}/j/{code}"));
    assert_eq!(m["starts_at"], "2026-11-30T09:00:00Z");
    assert_eq!(m["duration_minutes"], 45);
    assert_eq!(
        (m["weekly"].clone(), m["lobby"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(m["host_key"].as_str().unwrap().len(), 32);
    assert_eq!(m["created_by"], "admin");
    assert_eq!(
        m["invite_url"],
        format!("{BASE}/api/admin/meetings/{code}/invite.ics")
    );

    let path = format!("/api/admin/meetings/{code}");
    let patched = app
        .bearer(
            &login,
            Method::PATCH,
            &path,
            Some(json!({"passcode": null, "title": "Planning"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.json()["passcode"], json!(null));
    assert_eq!(patched.json()["title"], "Planning");
    assert_eq!(patched.json()["host_key"], m["host_key"]);

    let list = app
        .bearer(&login, Method::GET, "/api/admin/meetings", None)
        .await;
    assert_eq!(list.json()["meetings"][0]["title"], "Planning");
    let shown = app.bearer(&login, Method::GET, &path, None).await;
    assert_eq!(shown.json(), patched.json());

    let deleted = app.bearer(&login, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::DELETE] {
        let gone = app.bearer(&login, method, &path, None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(gone.code(), "meeting_not_found");
    }
}

#[tokio::test]
async fn invalid_meetings_are_refused_with_codes_and_sentences() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let cases = [
        (json!({"title": ""}), "invalid_title"),
        (json!({"title": "<b>".repeat(50)}), "invalid_title"),
        (json!({"title": "t", "passcode": "12"}), "invalid_passcode"),
        (
            json!({"title": "t", "starts_at": "next monday"}),
            "invalid_starts_at",
        ),
        (
            json!({"title": "t", "starts_at": "2026-11-30T09:00:00Z", "duration_minutes": 0}),
            "invalid_duration",
        ),
        (
            json!({"title": "t", "starts_at": "2026-11-30T09:00:00Z", "duration_minutes": 1441}),
            "invalid_duration",
        ),
        (json!({"title": "t", "weekly": true}), "schedule_incomplete"),
        (json!({"title": "t", "colour": "red"}), "invalid_request"),
        (json!({"name": "t"}), "invalid_request"),
    ];
    for (body, code) in cases {
        let answer = app
            .bearer(
                &login,
                Method::POST,
                "/api/admin/meetings",
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), code, "{body}: {}", answer.body);
        assert!(
            answer.json()["message"].as_str().unwrap().ends_with('.'),
            "{}",
            answer.body
        );
    }
    let not_json = app
        .send(
            request(Method::POST, "/api/admin/meetings", 1)
                .header(header::AUTHORIZATION, format!("Bearer {}", login.bearer))
                .body(Body::from("title=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.code(), "invalid_request");
    assert!(
        not_json.body.contains("Content-Type: application/json"),
        "{}",
        not_json.body
    );
}

#[tokio::test]
async fn invites_download_as_calendar_files_for_scheduled_meetings_only() {
    let app = app();
    app.set_password().await;
    let login = app.login(1).await;
    let weekly = app
        .bearer(
            &login,
            Method::POST,
            "/api/admin/meetings",
            Some(json!({"title": "Sync", "starts_at": "2026-11-30T09:00:00Z", "weekly": true})),
        )
        .await
        .json();
    let code = weekly["code"].as_str().unwrap();
    let ics = app
        .bearer(
            &login,
            Method::GET,
            &format!("/api/admin/meetings/{code}/invite.ics"),
            None,
        )
        .await;
    assert_eq!(ics.status, StatusCode::OK);
    assert!(ics.header("content-type").starts_with("text/calendar"));
    assert!(
        ics.header("content-disposition")
            .contains(&format!("{code}.ics"))
    );
    assert!(ics.body.contains("\r\nRRULE:FREQ=WEEKLY\r\n"));
    assert!(ics.body.contains("DTSTART:20261130T090000Z\r\n"));

    let instant = app
        .bearer(
            &login,
            Method::POST,
            "/api/admin/meetings",
            Some(json!({"title": "Now"})),
        )
        .await
        .json();
    let path = format!(
        "/api/admin/meetings/{}/invite.ics",
        instant["code"].as_str().unwrap()
    );
    let none = app.bearer(&login, Method::GET, &path, None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(none.code(), "not_scheduled");
}

#[tokio::test]
async fn unknown_admin_paths_answer_json_404() {
    let app = app();
    let answer = app.get("/api/admin/nothing/here").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "not_found");
}
