//! In-process server and WebSocket clients for the server's integration
//! tests. Everything binds to 127.0.0.1 on port 0.

#![allow(dead_code, unreachable_pub)]

pub mod rtc;

use std::time::Duration;

use confab_license::{DEV_KEY_ID, Payload, dev_secret_key, sign};
use confab_proto::signal::{ClientKind, ClientMessage, ServerMessage};
use confab_server::meetings::{Meeting, Meetings, NewMeeting};
use confab_server::{AppOptions, Config, RunningServer, Storage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub server: RunningServer,
    pub storage: Storage,
    pub dir: tempfile::TempDir,
}

/// A licence file signed with the development key.
pub fn dev_licence(seats: u32) -> Vec<u8> {
    let payload = Payload {
        licence_id: format!("CL-TEST-{seats}"),
        licensee: "Test Office".into(),
        seats,
        issued_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        not_before: None,
        expires_at: None,
    };
    sign(&dev_secret_key(), DEV_KEY_ID, &payload).unwrap()
}

impl TestServer {
    /// Starts a server with `seats` licensed lines (`None`: the free tier).
    pub async fn start(seats: Option<u32>, tune: impl FnOnce(&mut AppOptions)) -> Self {
        Self::start_on("127.0.0.1:0", seats, tune).await
    }

    /// Like [`Self::start`], listening (TCP and UDP) on `listen`.
    pub async fn start_on(
        listen: &str,
        seats: Option<u32>,
        tune: impl FnOnce(&mut AppOptions),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        if let Some(seats) = seats {
            confab_server::licence::install(
                &storage,
                &dev_licence(seats),
                confab_license::Timestamp::now(),
            )
            .unwrap();
        }
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: listen.parse().unwrap(),
            media_port: 0,
            // These clients speak plain ws://, also to a wildcard bind
            // that would otherwise turn HTTPS on (tests/tls.rs covers it).
            tls: confab_server::config::TlsMode::Off,
            ..Config::defaults().unwrap()
        };
        let mut options = AppOptions::default();
        tune(&mut options);
        let server = confab_server::start_with(&config, options).await.unwrap();
        Self {
            server,
            storage,
            dir,
        }
    }

    pub fn base(&self) -> String {
        self.server.base_url()
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base().replacen("http", "ws", 1))
    }

    pub async fn meeting(&self, new: NewMeeting) -> Meeting {
        Meetings::new(self.storage.clone())
            .create(new, "test")
            .await
            .unwrap()
    }

    /// `confab_lines_in_use` from `/metrics`.
    pub async fn lines_in_use(&self) -> u32 {
        self.metric("confab_lines_in_use").await
    }

    pub async fn metric(&self, name: &str) -> u32 {
        let url = format!("{}/metrics", self.base());
        let text = tokio::task::spawn_blocking(move || {
            ureq::get(&url)
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap()
        })
        .await
        .unwrap();
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{name} missing from metrics:\n{text}")) as u32
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(server: &TestServer) -> Self {
        let (ws, _) = connect_async(server.ws_url())
            .await
            .expect("websocket connects");
        Self { ws }
    }

    /// Connects and says hello.
    pub async fn greeted(server: &TestServer) -> Self {
        let mut c = Self::connect(server).await;
        c.send(&ClientMessage::Hello { version: 1 }).await;
        let welcome = c.recv().await;
        assert!(
            matches!(welcome, ServerMessage::Welcome { .. }),
            "{welcome:?}"
        );
        c
    }

    pub async fn send(&mut self, msg: &ClientMessage) {
        self.send_text(&serde_json::to_string(msg).unwrap()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next server message (skipping pings), or a panic after [`WAIT`].
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message within the wait")
                .expect("the socket is open")
                .expect("a frame");
            match frame {
                Message::Text(t) => return serde_json::from_str(&t).expect("server JSON"),
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// Waits for a message matching `pred`, skipping others.
    pub async fn recv_until(&mut self, pred: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        loop {
            let msg = self.recv().await;
            if pred(&msg) {
                return msg;
            }
        }
    }

    /// The close frame's code, skipping messages before it.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("closes in time")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn join(&mut self, code: &str, name: &str) -> ServerMessage {
        self.send(&join_msg(code, name, None)).await;
        self.recv().await
    }
}

pub fn join_msg(code: &str, name: &str, passcode: Option<&str>) -> ClientMessage {
    ClientMessage::Join {
        meeting: code.into(),
        name: name.into(),
        kind: ClientKind::App,
        passcode: passcode.map(str::to_string),
        host_key: None,
    }
}

pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A script's view of the admin API: logged in with a bearer token.
pub struct Admin {
    base: String,
    token: String,
}

impl Admin {
    /// Sets the admin password (first run) and logs in over HTTP.
    pub async fn login(server: &TestServer) -> Self {
        let _ = confab_server::admin::set_password(
            &server.storage,
            ADMIN_PASSWORD,
            confab_server::admin::SetMode::CreateOnly,
        )
        .await;
        let base = server.base();
        let url = format!("{base}/api/admin/login");
        let token = tokio::task::spawn_blocking(move || {
            let body: serde_json::Value = ureq::post(&url)
                .send_json(serde_json::json!({ "password": ADMIN_PASSWORD }))
                .unwrap()
                .body_mut()
                .read_json()
                .unwrap();
            body["token"].as_str().unwrap().to_string()
        })
        .await
        .unwrap();
        Self { base, token }
    }

    /// Sends a request; returns the status and the body as JSON (or null).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        let method = method.to_string();
        tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let mut response = match (method.as_str(), body) {
                ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
                ("DELETE", _) => agent.delete(&url).header("Authorization", &auth).call(),
                ("POST", None) => agent.post(&url).header("Authorization", &auth).send_empty(),
                (m, Some(bytes)) => {
                    let builder = match m {
                        "PUT" => agent.put(&url),
                        "PATCH" => agent.patch(&url),
                        _ => agent.post(&url),
                    };
                    builder
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/json")
                        .send(&bytes[..])
                }
                (m, None) => panic!("unsupported call {m}"),
            }
            .unwrap();
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            )
        })
        .await
        .unwrap()
    }
}
