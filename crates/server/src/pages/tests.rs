//! The welcome, join and setup pages through the router.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use jiff::tz::TimeZone;

use super::{escape, fill, moment, when};
use crate::meetings::{NewMeeting, Schedule};
use crate::storage::unix_now;
use crate::testing::{PASSWORD, TestApp, app, request};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

async fn add(app: &TestApp, title: &str, public: bool, starts_in: Option<i64>) -> String {
    let new = NewMeeting {
        public,
        schedule: starts_in.map(|offset| Schedule {
            starts_at: unix_now() + offset,
            duration_minutes: 30,
            weekly: false,
        }),
        ..NewMeeting::titled(title)
    };
    let meeting = app.state.meetings().create(new, "admin").await.unwrap();
    meeting.code.to_string()
}

#[tokio::test]
async fn welcome_lists_the_coming_weeks_public_meetings_and_open_rooms() {
    let app = app();
    let soon = add(&app, "Town hall", true, Some(2 * HOUR)).await;
    add(&app, "Secret planning", false, Some(3 * HOUR)).await;
    add(&app, "Next month", true, Some(30 * DAY)).await;
    add(&app, "Yesterday's", true, Some(-DAY)).await;
    let room = add(&app, "Coffee corner", true, None).await;
    add(&app, "Private room", false, None).await;

    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.body
            .contains(&format!("<a href=\"/j/{soon}\">Town hall</a>"))
    );
    assert!(
        page.body
            .contains(&format!("<a href=\"/j/{room}\">Coffee corner</a>"))
    );
    for hidden in [
        "Secret planning",
        "Next month",
        "Yesterday&#39;s",
        "Private room",
    ] {
        assert!(!page.body.contains(hidden), "{hidden} is listed");
    }
    assert!(page.body.contains("action=\"/j\""), "join-by-code form");
    assert!(page.body.contains("Times are in UTC."));
}

#[tokio::test]
async fn titles_are_escaped_everywhere_they_are_shown() {
    let app = app();
    let title = "<script>alert('x')</script> & {{version}}";
    let code = add(&app, title, true, Some(HOUR)).await;
    for path in ["/".to_owned(), format!("/j/{code}")] {
        let page = app.get(&path).await;
        assert!(!page.body.contains("<script>"), "{path}: raw script tag");
        assert!(
            page.body
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; {{version}}"),
            "{path}: escaped, and a {{{{…}}}} in user text is not filled"
        );
    }
}

#[tokio::test]
async fn join_page_shows_the_meeting_and_how_to_join_with_the_app() {
    let app = app();
    let code = add(&app, "Design review", false, Some(2 * DAY)).await;
    let page = app.get(&format!("/j/{code}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<title>Design review · Confab</title>"));
    assert!(
        page.body
            .contains(&format!("value=\"http://office.test:8443/j/{code}\""))
    );
    // With the web UI built in, the guest page with these details for
    // browsers without JavaScript; without it, the plain page saying so.
    let guest = page.body.contains("id=\"confab-meeting\"");
    assert!(
        guest && page.body.contains("<noscript>") && page.body.contains("needs JavaScript")
            || !guest && page.body.contains("web UI was not built in"),
        "{}",
        page.body
    );
    assert!(page.body.contains("It opens 15 minutes before the start"));

    let shouted = code.to_uppercase();
    let page = app.get(&format!("/j/{shouted}")).await;
    assert_eq!(page.status, StatusCode::OK, "codes are read in any case");
}

#[tokio::test]
async fn unknown_codes_get_a_404_page_with_the_code_escaped() {
    let app = app();
    for path in ["/j/kqz-rmtp-wfa", "/j/%3Cb%3Enot-a-code"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(page.body.contains("Meeting not found"));
        assert!(!page.body.contains("<b>"));
    }
}

#[tokio::test]
async fn the_join_form_redirects_to_the_canonical_code_or_explains_the_format() {
    let app = app();
    let page = app.get("/j?code=KQZ%20RMTP%20WFA").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/j/kqz-rmtp-wfa");
    let bad = app.get("/j?code=%22%3E%3Cscript%3E").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("10 letters"));
    assert!(!bad.body.contains("<script>"));
}

#[tokio::test]
async fn the_setup_form_sets_the_password_and_logs_the_browser_in() {
    let app = app();
    let link = app.state.admin_setup_link().await.unwrap().unwrap();
    let token = link.rsplit('=').next().unwrap().to_owned();
    let form = app.get(&format!("/admin/setup?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(&format!("value=\"{token}\"")));

    let post = |password: &str, confirm: &str| {
        request(Method::POST, "/admin/setup", 1)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "token={token}&password={}&confirm={}",
                password.replace(' ', "+"),
                confirm.replace(' ', "+")
            )))
            .unwrap()
    };
    let mismatch = app.send(post(PASSWORD, "something else")).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.body.contains("The two passwords differ"));

    let done = app.send(post(PASSWORD, PASSWORD)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), "/admin");
    assert!(done.header("set-cookie").contains("HttpOnly"));

    let again = app.send(post(PASSWORD, PASSWORD)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("Already set up"));
    app.login(1).await;
}

#[test]
fn times_read_as_today_tomorrow_or_a_date() {
    let tz = TimeZone::UTC;
    let monday_9 = 1_796_029_200; // 2026-11-30 09:00 UTC
    assert_eq!(
        when(monday_9, monday_9 + 1800, monday_9 - HOUR, &tz),
        "Today 09:00–09:30"
    );
    assert_eq!(
        when(monday_9 + DAY, monday_9 + DAY + HOUR, monday_9, &tz),
        "Tomorrow 09:00–10:00"
    );
    assert_eq!(
        when(monday_9 + 2 * DAY, monday_9 + 2 * DAY + HOUR, monday_9, &tz),
        "Wed 2 Dec 09:00–10:00"
    );
    assert_eq!(
        when(monday_9 + 14 * HOUR, monday_9 + 16 * HOUR, monday_9, &tz),
        "Today 23:00–Tue 01:00"
    );
    assert_eq!(moment(monday_9 - 900, monday_9, &tz), "Today 08:45");
}

#[test]
fn escape_covers_markup_and_both_quotes() {
    assert_eq!(
        escape(r#"<a href="x" title='y'>&</a>"#),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
}

#[test]
fn fill_replaces_known_slots_once_and_leaves_others() {
    let out = fill("{{a}} {{b}} {{unknown}} {{", &[("a", "{{b}}"), ("b", "B")]);
    assert_eq!(out, "{{b}} B {{unknown}} {{");
}

#[test]
fn the_guest_page_carries_the_meeting_as_json_that_cannot_close_its_script() {
    use confab_proto::GuestMeeting;
    let template = "<html><head><title>Confab</title></head><body><div id=\"guest\"></div>\
                    <!--confab:meeting--><script type=\"module\" src=\"/assets/g.js\"></script></body></html>";
    let data = GuestMeeting {
        code: "kqz-rmtp-wfa".into(),
        title: "</script><b>x</b>".into(),
        passcode_required: true,
        lobby: false,
        not_open: None,
    };
    let html =
        super::join::guest_page(template, "T & co · Confab", &data, "<p>details</p>").unwrap();
    assert!(html.contains("<title>T &amp; co · Confab</title>"));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the page's own script ends: {html}"
    );
    let start = html.find("application/json\">").unwrap() + "application/json\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let parsed: GuestMeeting = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(
        parsed, data,
        "the script reads back exactly what the server meant"
    );
    assert!(html.contains("<noscript><main class=\"noscript\"><p>details</p></main></noscript>"));
    assert!(!html.contains(super::join::GUEST_MARKER));
    assert_eq!(
        super::join::guest_page("<html></html>", "t", &data, ""),
        None
    );
}

#[tokio::test]
async fn the_join_page_says_a_passcode_is_needed_but_never_gives_it_or_the_host_key() {
    let app = app();
    let new = NewMeeting {
        passcode: Some("sesame-4711".into()),
        lobby: true,
        ..NewMeeting::titled("Board")
    };
    let meeting = app.state.meetings().create(new, "admin").await.unwrap();
    let page = app.get(&format!("/j/{}", meeting.code)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This meeting has a passcode"));
    assert!(!page.body.contains("sesame-4711"), "{}", page.body);
    assert!(!page.body.contains(&meeting.host_key), "{}", page.body);
    if page.body.contains("id=\"confab-meeting\"") {
        assert!(page.body.contains("\"passcode_required\":true"));
        assert!(page.body.contains("\"lobby\":true"));
    }
}
