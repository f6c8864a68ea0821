//! A real `confab-server` started in-process on loopback for the client's
//! end-to-end tests, and clients with fake devices.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use confab_client::bot::{self, Recorder};
use confab_client::{Events, JoinOptions, MediaOptions, Meeting, MeetingEvent};
use confab_server::config::TlsMode;
use confab_server::meetings::{Meetings, NewMeeting};
use confab_server::{AppOptions, Config, RunningServer, Storage};

/// Bound on waits for signalling answers.
pub const WAIT: Duration = Duration::from_secs(10);
/// Capture size and rate the test clients publish.
pub const VIDEO: (u32, u32, u32) = (640, 360, 15);

pub struct Server {
    pub server: RunningServer,
    pub storage: Storage,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The free tier (5 lines), with an optional shorter heartbeat timeout.
    pub async fn start(heartbeat_timeout: Option<Duration>) -> Self {
        Self::start_with(heartbeat_timeout, TlsMode::Auto).await
    }

    /// Like [`Server::start`], choosing TLS (`Auto` is off on loopback).
    pub async fn start_with(heartbeat_timeout: Option<Duration>, tls: TlsMode) -> Self {
        Self::start_tuned(tls, |options| {
            if let Some(t) = heartbeat_timeout {
                options.signalling.heartbeat_timeout = t;
            }
        })
        .await
    }

    /// With `tune` changing the server's options (limits, timeouts).
    pub async fn start_tuned(tls: TlsMode, tune: impl FnOnce(&mut AppOptions)) -> Self {
        Self::start_configured(|config| config.tls = tls, tune).await
    }

    /// With `configure` changing the loopback config first (TLS, the
    /// public media address) and `tune` the options.
    pub async fn start_configured(
        configure: impl FnOnce(&mut Config),
        tune: impl FnOnce(&mut AppOptions),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            media_port: 0,
            ..Config::defaults().unwrap()
        };
        configure(&mut config);
        let mut options = AppOptions::default();
        tune(&mut options);
        let server = confab_server::start_with(&config, options).await.unwrap();
        Self {
            server,
            storage,
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        self.server.base_url()
    }

    /// A new instant meeting; returns its code.
    pub async fn meeting(&self, passcode: Option<&str>) -> String {
        let new = NewMeeting {
            passcode: passcode.map(str::to_owned),
            ..NewMeeting::titled("Client test")
        };
        let m = Meetings::new(self.storage.clone())
            .create(new, "test")
            .await
            .unwrap();
        m.code.as_str().to_owned()
    }
}

/// A joined client with fake devices and a recorder of what it receives.
pub struct Peer {
    pub meeting: Meeting,
    pub events: Events,
    pub recorder: Recorder,
    pub name: String,
}

impl Peer {
    pub async fn join(server: &Server, code: &str, name: &str, media: bool) -> Self {
        Self::join_with(server, code, name, media, |_| {}).await
    }

    /// Like [`Peer::join`], with `tune` changing the devices first (a
    /// speaker, audio processing).
    pub async fn join_with(
        server: &Server,
        code: &str,
        name: &str,
        media: bool,
        tune: impl FnOnce(&mut MediaOptions),
    ) -> Self {
        let recorder = Recorder::default();
        let mut devices = if media {
            bot::fake_media(name, Some(VIDEO), true, &recorder).unwrap()
        } else {
            MediaOptions::default()
        };
        tune(&mut devices);
        let options = JoinOptions::new(server.base(), code, name);
        let (meeting, events) = Meeting::join(options, devices)
            .await
            .unwrap_or_else(|e| panic!("{name} joins: {e}"));
        Self {
            meeting,
            events,
            recorder,
            name: name.into(),
        }
    }

    pub fn id(&self) -> u64 {
        self.meeting.id().expect("admitted")
    }

    /// Waits for an event matching `pred`, skipping others.
    pub async fn expect(
        &mut self,
        what: &str,
        pred: impl Fn(&MeetingEvent) -> bool,
    ) -> MeetingEvent {
        let give_up = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(give_up, self.events.recv()).await {
                Ok(Some(e)) if pred(&e) => return e,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{}: events ended before {what}", self.name),
                Err(_) => panic!("{}: no {what} within {WAIT:?}", self.name),
            }
        }
    }

    /// Drops queued events (the tests that do not look at them).
    pub fn drain(&mut self) {
        while self.events.try_recv().is_ok() {}
    }
}

/// Polls `done` every 100 ms until it holds or `limit` passes; returns
/// whether it held.
pub async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let give_up = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= give_up {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
