//! HTTPS on the server's port: the self-signed certificate, pinning by
//! fingerprint, signalling over `wss://`, the redirect from `http://`, and
//! an operator's own certificate.

use std::path::Path;

use confab_client::ClientError;
use confab_proto::signal::{ClientMessage, ServerMessage};
use confab_server::config::TlsMode;
use confab_server::{Config, RunningServer};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;

fn config(dir: &Path, tls: TlsMode) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        media_port: 0,
        tls,
        ..Config::defaults().unwrap()
    }
}

/// TLS to the server, trusting only the certificate with `fingerprint`,
/// as the desktop client does once it has pinned a host.
async fn connect(
    server: &RunningServer,
    fingerprint: &str,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let tcp = TcpStream::connect(server.http_addr()).await?;
    confab_client::connect_pinned(tcp, "localhost", fingerprint).await
}

/// One HTTP/1.1 request on its own connection; the whole response.
async fn request<S>(mut stream: S, path: &str) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response
}

#[tokio::test]
async fn a_client_pinning_the_self_signed_certificate_gets_https_and_wss() {
    let dir = tempfile::tempdir().unwrap();
    let server = confab_server::start(&config(dir.path(), TlsMode::On))
        .await
        .unwrap();
    let ready = server.ready();
    assert!(ready.http.starts_with("https://127.0.0.1:"), "{ready:?}");
    assert!(server.links_base().starts_with("https://"));
    let fingerprint = ready.tls_fingerprint.expect("a fingerprint to pin");
    assert!(server.tls().unwrap().is_self_signed());

    let health = request(connect(&server, &fingerprint).await.unwrap(), "/api/health").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"database_ok\":true"), "{health}");

    let stream = connect(&server, &fingerprint).await.unwrap();
    let url = format!("wss://localhost:{}/ws", server.http_addr().port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let hello = serde_json::to_string(&ClientMessage::Hello { version: 1 }).unwrap();
    ws.send(Message::text(hello)).await.unwrap();
    let Some(Ok(Message::Text(text))) = ws.next().await else {
        panic!("no answer to hello over wss");
    };
    let welcome: ServerMessage = serde_json::from_str(&text).unwrap();
    assert!(
        matches!(welcome, ServerMessage::Welcome { .. }),
        "{welcome:?}"
    );

    let wrong = "00:".repeat(31) + "00";
    let refused = connect(&server, &wrong).await;
    assert!(
        refused.is_err(),
        "a changed certificate must not be trusted"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_self_signed_certificate_is_kept_across_restarts_with_a_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = confab_server::start(&config(dir.path(), TlsMode::On))
        .await
        .unwrap();
    let fingerprint = first.tls().unwrap().fingerprint().to_owned();
    first.stop().await.unwrap();
    let second = confab_server::start(&config(dir.path(), TlsMode::On))
        .await
        .unwrap();
    assert_eq!(second.tls().unwrap().fingerprint(), fingerprint);
    second.stop().await.unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
    }
}

#[tokio::test]
async fn plain_http_on_the_https_port_is_redirected_to_https() {
    let dir = tempfile::tempdir().unwrap();
    let server = confab_server::start(&config(dir.path(), TlsMode::On))
        .await
        .unwrap();
    let tcp = TcpStream::connect(server.http_addr()).await.unwrap();
    let response = request(tcp, "/j/abc-defg-hij").await;
    assert!(response.starts_with("HTTP/1.1 301"), "{response}");
    assert!(
        response.contains("Location: https://localhost/j/abc-defg-hij\r\n"),
        "{response}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn auto_tls_serves_plain_http_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let server = confab_server::start(&config(dir.path(), TlsMode::Auto))
        .await
        .unwrap();
    assert!(server.tls().is_none());
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(server.ready().tls_fingerprint, None);
    server.stop().await.unwrap();
}

fn write_certificate(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let pair = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["office-pc.example".into()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    let cert_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, pair.serialize_pem()).unwrap();
    (
        cert_path,
        key_path,
        confab_server::tls::fingerprint(cert.der()),
    )
}

#[tokio::test]
async fn an_operator_certificate_is_served_and_a_wrong_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_a, key_a, fingerprint_a) = write_certificate(dir.path(), "a");
    let (_, key_b, _) = write_certificate(dir.path(), "b");

    let mut own = config(dir.path(), TlsMode::On);
    own.tls_cert = Some(cert_a.clone());
    own.tls_key = Some(key_a);
    let server = confab_server::start(&own).await.unwrap();
    assert_eq!(server.tls().unwrap().fingerprint(), fingerprint_a);
    assert!(!server.tls().unwrap().is_self_signed());
    let health = request(
        connect(&server, &fingerprint_a).await.unwrap(),
        "/api/health",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    server.stop().await.unwrap();

    let mut mismatched = own.clone();
    mismatched.tls_key = Some(key_b);
    let err = confab_server::start(&mismatched)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not go with"), "{err}");

    let garbage = dir.path().join("garbage.key");
    std::fs::write(&garbage, "not a key").unwrap();
    let mut broken = own.clone();
    broken.tls_key = Some(garbage);
    let err = confab_server::start(&broken).await.unwrap_err().to_string();
    assert!(
        err.contains("garbage.key") && err.contains("not a PEM private key"),
        "{err}"
    );

    let mut half = own;
    half.tls_key = None;
    let err = confab_server::start(&half).await.unwrap_err().to_string();
    assert!(err.contains("give both"), "{err}");
}
