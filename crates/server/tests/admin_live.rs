//! The admin API's live side over real sockets: lines, removal, ending a
//! meeting, licence installs, usage history.

mod common;

use common::{Admin, Client, TestServer, dev_licence};
use confab_proto::signal::{ErrorCode, LeaveReason, ServerMessage};
use confab_server::meetings::NewMeeting;

fn refused_with(msg: &ServerMessage) -> Option<String> {
    match msg {
        ServerMessage::Error {
            code: ErrorCode::ServerFull,
            message,
        } => Some(message.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn a_smaller_licence_installed_mid_meeting_drops_nobody_and_refuses_new_joins() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let admin = Admin::login(&s).await;
    let m = s.meeting(NewMeeting::titled("All hands")).await;
    let mut people = Vec::new();
    for i in 0..8 {
        let mut c = Client::greeted(&s).await;
        assert!(matches!(
            c.join(m.code.as_str(), &format!("P{i}")).await,
            ServerMessage::Joined { .. }
        ));
        people.push(c);
    }
    let (status, info) = admin
        .call("PUT", "/api/admin/licence", Some(dev_licence(6)))
        .await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["lines"], 6);

    let (_, lines) = admin.call("GET", "/api/admin/lines", None).await;
    assert_eq!(lines["in_use"], 8, "nobody dropped");
    assert_eq!(lines["licensed"], 6);
    // Everyone is still connected and hears chat.
    people[0]
        .send(&confab_proto::ClientMessage::Chat {
            text: "still here?".into(),
        })
        .await;
    for p in &mut people[1..] {
        p.recv_until(|m| matches!(m, ServerMessage::Chat { .. }))
            .await;
    }

    let mut late = Client::greeted(&s).await;
    let refusal = refused_with(&late.join(m.code.as_str(), "Late").await).expect("refused");
    assert_eq!(
        refusal,
        "All 6 lines are in use. Try again when someone leaves."
    );
    for mut p in people.drain(..3) {
        p.send(&confab_proto::ClientMessage::Leave).await;
        p.recv_until(|m| matches!(m, ServerMessage::Left)).await;
    }
    assert_eq!(s.lines_in_use().await, 5);
    assert!(matches!(
        late.join(m.code.as_str(), "Late").await,
        ServerMessage::Joined { .. }
    ));
}

#[tokio::test]
async fn a_tampered_licence_upload_is_refused_with_the_reason_and_changes_nothing() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let admin = Admin::login(&s).await;
    let mut file: serde_json::Value = serde_json::from_slice(&dev_licence(10)).unwrap();
    let forged: serde_json::Value = serde_json::from_slice(&dev_licence(500)).unwrap();
    file["payload"] = forged["payload"].clone();
    let (status, body) = admin
        .call(
            "PUT",
            "/api/admin/licence",
            Some(file.to_string().into_bytes()),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "licence_refused");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("changed after it was signed"),
        "{body}"
    );
    let (_, info) = admin.call("GET", "/api/admin/licence", None).await;
    assert_eq!(info["lines"], 10);
    assert_eq!(info["licensed"], true);

    let (status, body) = admin
        .call("PUT", "/api/admin/licence", Some(b"not a licence".to_vec()))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "licence_refused");
}

#[tokio::test]
async fn without_a_licence_the_free_tier_is_stated() {
    let s = TestServer::start(None, |_| {}).await;
    let admin = Admin::login(&s).await;
    let (_, info) = admin.call("GET", "/api/admin/licence", None).await;
    assert_eq!(info["licensed"], false);
    assert_eq!(info["summary"], "Free tier: 5 lines (no licence installed)");
}

#[tokio::test]
async fn an_admin_removes_a_connection_and_its_line_comes_back() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let admin = Admin::login(&s).await;
    let m = s.meeting(NewMeeting::titled("Ops")).await;
    let mut a = Client::greeted(&s).await;
    a.join(m.code.as_str(), "Ana").await;
    let mut b = Client::greeted(&s).await;
    let ServerMessage::Joined { you, .. } = b.join(m.code.as_str(), "Ben").await else {
        panic!("joined");
    };
    let (_, lines) = admin.call("GET", "/api/admin/lines", None).await;
    assert_eq!(lines["in_use"], 2);
    let row = &lines["connections"][1];
    assert_eq!(row["name"], "Ben");
    assert_eq!(row["kind"], "app");
    assert_eq!(row["address"], "127.0.0.1");

    let path = format!("/api/admin/connections/{}/{}", m.code.as_str(), you.id);
    assert_eq!(admin.call("DELETE", &path, None).await.0, 204);
    assert!(matches!(b.recv().await, ServerMessage::Removed { .. }));
    let left = a
        .recv_until(|m| matches!(m, ServerMessage::ParticipantLeft { .. }))
        .await;
    assert!(matches!(
        left,
        ServerMessage::ParticipantLeft {
            reason: LeaveReason::Removed,
            ..
        }
    ));
    assert_eq!(s.lines_in_use().await, 1);
    let (status, body) = admin.call("DELETE", &path, None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_live")));
}

#[tokio::test]
async fn an_admin_ends_a_meeting_for_everyone() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let admin = Admin::login(&s).await;
    let m = s.meeting(NewMeeting::titled("Wrap")).await;
    let mut a = Client::greeted(&s).await;
    a.join(m.code.as_str(), "Ana").await;
    let path = format!("/api/admin/meetings/{}/end", m.code.as_str());
    assert_eq!(admin.call("POST", &path, None).await.0, 204);
    assert!(matches!(
        a.recv_until(|m| matches!(m, ServerMessage::MeetingEnded { .. }))
            .await,
        ServerMessage::MeetingEnded { .. }
    ));
    assert_eq!(s.lines_in_use().await, 0);
}

#[tokio::test]
async fn admin_traffic_takes_no_line() {
    let s = TestServer::start(Some(10), |_| {}).await;
    let admin = Admin::login(&s).await;
    for path in [
        "/api/admin/session",
        "/api/admin/meetings",
        "/api/admin/lines",
        "/api/admin/usage",
    ] {
        assert_eq!(admin.call("GET", path, None).await.0, 200, "{path}");
    }
    assert_eq!(s.lines_in_use().await, 0);
}

#[tokio::test]
async fn usage_history_survives_a_restart_with_the_peak_and_refusals() {
    let s = TestServer::start(Some(5), |_| {}).await;
    let m = s.meeting(NewMeeting::titled("Busy")).await;
    let mut people = Vec::new();
    for i in 0..5 {
        let mut c = Client::greeted(&s).await;
        c.join(m.code.as_str(), &format!("P{i}")).await;
        people.push(c);
    }
    let mut late = Client::greeted(&s).await;
    assert!(refused_with(&late.join(m.code.as_str(), "Late").await).is_some());
    drop(people);
    drop(late);
    let dir = s.dir;
    s.server.stop().await.unwrap();

    let config = confab_server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        media_port: 0,
        ..confab_server::Config::defaults().unwrap()
    };
    let server = confab_server::start(&config).await.unwrap();
    let again = TestServer {
        server,
        storage: confab_server::Storage::open(dir.path()).unwrap(),
        dir,
    };
    let admin = Admin::login(&again).await;
    let (status, usage) = admin.call("GET", "/api/admin/usage?days=1", None).await;
    assert_eq!(status, 200);
    let today = usage["days"]
        .as_array()
        .unwrap()
        .last()
        .expect("a day")
        .clone();
    assert_eq!(today["peak"], 5, "{usage}");
    assert_eq!(today["refused"], 1, "{usage}");
    assert_eq!(today["licensed"], 5);
}
