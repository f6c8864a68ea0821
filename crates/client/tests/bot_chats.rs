//! `confab-bot --say`: the bot sends one chat message once joined, and its
//! summary lists the chat it received, so end-to-end tests (the app
//! window's) can check chat in both directions against a real process.

mod support;

use std::process::{Command, Stdio};

use confab_client::MeetingEvent;
use support::{Peer, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_says_its_line_and_reports_the_chat_it_received() {
    let server = Server::start(None).await;
    let code = server.meeting(None).await;
    let mut ana = Peer::join(&server, &code, "Ana", false).await;
    let bot = Command::new(env!("CARGO_BIN_EXE_confab-bot"))
        .args(["--server", &server.base(), "--meeting", &code])
        .args([
            "--name",
            "Chatty",
            "--duration",
            "4",
            "--no-video",
            "--no-audio",
        ])
        .args(["--say", "Hello from the bot"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("confab-bot starts");
    let said = ana
        .expect("the bot's chat", |e| matches!(e, MeetingEvent::Chat(_)))
        .await;
    let MeetingEvent::Chat(message) = said else {
        unreachable!()
    };
    assert_eq!(
        (message.name.as_str(), message.text.as_str()),
        ("Chatty", "Hello from the bot")
    );
    ana.meeting.chat("Hello, bot").unwrap();
    let out = tokio::task::spawn_blocking(move || bot.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "the bot exits cleanly: {out:?}");
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON summary line");
    let chat = summary["chat"].as_array().expect("a chat list");
    assert!(
        chat.contains(&serde_json::json!({ "from": "Ana", "text": "Hello, bot" })),
        "the bot recorded Ana's message: {chat:?}"
    );
    ana.meeting.leave().await.unwrap();
}
