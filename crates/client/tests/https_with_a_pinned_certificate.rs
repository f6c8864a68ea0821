//! An `https://` server is joined over TLS when its certificate's
//! fingerprint is pinned, and refused otherwise, before anything is sent.

mod support;

use std::time::Duration;

use confab_client::{ClientError, JoinOptions, MediaOptions, Meeting};
use confab_server::config::TlsMode;
use support::{Server, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_https_server_is_joined_and_media_flows_while_a_wrong_or_missing_pin_is_refused() {
    let server = Server::start_with(None, TlsMode::On).await;
    let base = server.base();
    assert!(base.starts_with("https://"), "{base}");
    let pin = server
        .server
        .ready()
        .tls_fingerprint
        .expect("a fingerprint");
    let code = server.meeting(None).await;
    // Trust on first use: the client reads the same fingerprint the server printed.
    let seen = confab_client::ServerUrl::parse(&base)
        .unwrap()
        .fetch_fingerprint()
        .await
        .unwrap();
    assert_eq!(seen, pin);

    let mut wrong = JoinOptions::new(&base, &code, "Mallory");
    wrong.tls_fingerprint =
        Some(pin.replace(&pin[..2], if &pin[..2] == "00" { "11" } else { "00" }));
    match Meeting::join(wrong, MediaOptions::default()).await {
        Err(ClientError::Tls(why)) => assert!(why.contains("not the one trusted"), "{why}"),
        other => panic!("a wrong pin is refused: {:?}", other.map(|_| ())),
    }
    match Meeting::join(
        JoinOptions::new(&base, &code, "Nobody"),
        MediaOptions::default(),
    )
    .await
    {
        Err(ClientError::Tls(why)) => assert!(why.contains("fingerprint"), "{why}"),
        other => panic!("no pin is refused: {:?}", other.map(|_| ())),
    }

    // Pinned, lower case without colons: signalling over wss and media flow.
    let recorder = confab_client::bot::Recorder::default();
    let join = |name: &str, recorder: &confab_client::bot::Recorder| {
        let mut o = JoinOptions::new(&base, &code, name);
        o.tls_fingerprint = Some(pin.to_lowercase().replace(':', ""));
        let media =
            confab_client::bot::fake_media(name, Some(support::VIDEO), true, recorder).unwrap();
        Meeting::join(o, media)
    };
    let (ana, _ana_events) = join("Ana", &confab_client::bot::Recorder::default())
        .await
        .unwrap();
    let (ben, _ben_events) = join("Ben", &recorder).await.unwrap();
    let a = ana.id().unwrap();
    assert!(
        eventually(Duration::from_secs(20), || recorder
            .track(a)
            .stamps_in_order
            >= 10)
        .await,
        "Ben sees Ana's frames"
    );
    ana.leave().await.unwrap();
    ben.leave().await.unwrap();
}
