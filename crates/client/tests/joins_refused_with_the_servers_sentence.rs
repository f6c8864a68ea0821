//! Bad input gets typed errors carrying the server's sentence.

mod support;

use confab_client::{ClientError, ErrorCode, JoinOptions, MediaOptions, Meeting};
use support::{Peer, Server};

async fn refused(options: JoinOptions) -> ClientError {
    match Meeting::join(options, MediaOptions::default()).await {
        Ok(_) => panic!("the join should be refused"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn wrong_passcode_unknown_meeting_and_a_full_server_are_typed_errors_with_the_servers_sentence()
 {
    let server = Server::start(None).await;
    let code = server.meeting(Some("4711")).await;

    let mut options = JoinOptions::new(server.base(), &code, "Ana");
    options.passcode = Some("1234".into());
    let e = refused(options).await;
    assert_eq!(e.code(), Some(ErrorCode::WrongPasscode), "{e}");
    assert!(e.to_string().to_lowercase().contains("passcode"), "{e}");

    let e = refused(JoinOptions::new(server.base(), "zzz-zzzz-zzz", "Ana")).await;
    assert_eq!(e.code(), Some(ErrorCode::MeetingNotFound), "{e}");
    assert!(!e.to_string().is_empty());

    // The free tier has five lines.
    let open = server.meeting(None).await;
    let mut seated = Vec::new();
    for i in 0..5 {
        seated.push(Peer::join(&server, &open, &format!("P{i}"), false).await);
    }
    let e = refused(JoinOptions::new(server.base(), &open, "Sixth")).await;
    assert_eq!(e.code(), Some(ErrorCode::ServerFull), "{e}");
    assert_eq!(
        e.to_string(),
        "All 5 lines are in use. Try again when someone leaves."
    );

    // Leaving gives the line back at once.
    seated.pop().unwrap().meeting.leave().await.unwrap();
    Peer::join(&server, &open, "Sixth", false).await;
}

#[tokio::test]
async fn addresses_that_are_not_a_server_are_refused_before_connecting() {
    for bad in ["office-pc:8443", "ftp://office-pc", "http://h:1/x"] {
        let e = refused(JoinOptions::new(bad, "abc-defg-hij", "Ana")).await;
        assert!(matches!(e, ClientError::BadUrl { .. }), "{bad}: {e}");
    }
    // Nothing listens on port 9 of loopback.
    let e = refused(JoinOptions::new(
        "http://127.0.0.1:9",
        "abc-defg-hij",
        "Ana",
    ))
    .await;
    assert!(matches!(e, ClientError::Connect { .. }), "{e}");
}
