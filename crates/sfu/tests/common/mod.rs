//! A virtual-time world: the SFU, str0m client peers, and a lossy network
//! between them, driven like str0m's own tests drive two peers.
#![allow(dead_code, unreachable_pub)]

pub mod link;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

pub use confab_sfu::is_rtp;
use confab_sfu::test_client::{Client, LAYERS};
use confab_sfu::{Sfu, SfuConfig, SfuError, SfuEvent, SfuOutput, View};

use link::{Impairment, Link};

pub const SFU_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 8443);
/// A tile the top layer fills, and one the low layer fills.
pub const BIG: View = View::Tile {
    width: 1280,
    height: 720,
};
pub const THUMBNAIL: View = View::Tile {
    width: 320,
    height: 180,
};
const AUDIO_EVERY: Duration = Duration::from_millis(20);
const VIDEO_EVERY: Duration = Duration::from_millis(33);

pub struct World {
    pub now: Instant,
    pub sfu: Sfu,
    sfu_timeout: Instant,
    pub clients: Vec<Client>,
    /// Client to SFU, and SFU to client.
    pub up: Link,
    pub down: Link,
    pub events: Vec<(Instant, SfuEvent)>,
    next_audio: Instant,
    next_video: Instant,
    /// Measuring (benchmarks): wall time inside the SFU and what it forwarded.
    pub measure: Option<Measure>,
    /// Capturing (the load bench): SRTP and DTLS datagrams to the SFU are
    /// kept here instead of delivered, to be replayed later at another
    /// pace; STUN still flows so every ICE session stays up.
    pub capture: Option<Vec<Captured>>,
    /// Publishers pause the layers the SFU says nobody wants, as real ones
    /// do (off by default: most tests look at all layers).
    pub follow_wanted: bool,
    /// Each publisher sends on its own phase of the audio and video
    /// periods, as independent cameras and microphones do (off by default:
    /// all at once is the worst case for the SFU's bursts).
    pub stagger: bool,
    /// Whose turn it is, when staggered.
    audio_turn: usize,
    video_turn: usize,
}

/// A datagram on its way to the SFU, held back by [`World::capture`].
#[derive(Debug)]
pub struct Captured {
    pub at: Instant,
    pub source: SocketAddr,
    pub destination: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Wall-clock cost of the SFU, measured around its calls only.
#[derive(Debug, Default)]
pub struct Measure {
    pub busy: Duration,
    /// RTP packets the SFU sent (forwarded media and retransmissions).
    pub forwarded: u64,
    /// Per incoming RTP datagram: receive, then poll until timeout.
    pub per_datagram: Vec<Duration>,
}

impl World {
    pub fn new(seed: u64, up: Impairment, down: Impairment) -> Self {
        let now = Instant::now();
        let config = SfuConfig {
            candidates: vec![SFU_ADDR],
            initial_bitrate: 3_000_000,
        };
        Self {
            now,
            sfu: Sfu::new(config),
            sfu_timeout: now,
            clients: Vec::new(),
            up: Link::new(up, seed),
            down: Link::new(down, seed.wrapping_add(1)),
            events: Vec::new(),
            next_audio: now,
            next_video: now,
            measure: None,
            capture: None,
            follow_wanted: false,
            stagger: false,
            audio_turn: 0,
            video_turn: 0,
        }
    }

    pub fn lossless() -> Self {
        Self::new(1, Impairment::default(), Impairment::default())
    }

    /// Adds a client to `room`; returns its index in `clients`.
    pub fn join(&mut self, id: u64, room: u64, publish: bool, slots: usize) -> usize {
        let addr = SocketAddr::new(Ipv4Addr::new(10, 1, (id >> 8) as u8, id as u8).into(), 5000);
        let (mut client, offer, pending) = Client::offer(self.now, id, addr, publish, slots);
        let answer = self
            .sfu
            .add_peer(self.now, id, room, &offer)
            .expect("offer accepted");
        client.accept(pending, &answer);
        self.clients.push(client);
        self.drive_sfu();
        self.clients.len() - 1
    }

    /// Adds a client to `room` that publishes a load meeting's media:
    /// frames of 1, 2 and 5 packets of 900 bytes (about 0.2, 0.4 and
    /// 1.1 Mbit/s at 30 fps).
    pub fn join_full_publisher(&mut self, id: u64, room: u64, slots: usize) -> &mut Client {
        let index = self.join(id, room, true, slots);
        let client = &mut self.clients[index];
        client.packets_per_frame = [1, 2, 5];
        client.payload_bytes = 900;
        client
    }

    /// Everyone in `ids` shows the first of them large and the others as
    /// thumbnails; the first shows the second large. Returns, per member,
    /// whom it shows large.
    pub fn show_first_large(&mut self, ids: &[u64]) -> Vec<(u64, u64)> {
        let mut big_tiles = Vec::new();
        for &subscriber in ids {
            let big = if subscriber == ids[0] { ids[1] } else { ids[0] };
            big_tiles.push((subscriber, big));
            for &publisher in ids.iter().filter(|p| **p != subscriber) {
                let view = if publisher == big { BIG } else { THUMBNAIL };
                self.sfu
                    .set_view(subscriber, publisher, view)
                    .expect("known peers");
            }
        }
        big_tiles
    }

    /// Client `id` comes back from a new address with a new offer, which
    /// replaces its connection; the old client is gone.
    pub fn reconnect(&mut self, id: u64, room: u64, slots: usize) -> Result<(), SfuError> {
        let old = self.clients.iter().position(|c| c.id == id);
        let port = old.map_or(5000, |i| self.clients[i].addr.port() + 1);
        let addr = SocketAddr::new(Ipv4Addr::new(10, 1, (id >> 8) as u8, id as u8).into(), port);
        let (mut client, offer, pending) = Client::offer(self.now, id, addr, true, slots);
        let answer = self.sfu.replace_peer(self.now, id, room, &offer)?;
        client.accept(pending, &answer);
        if let Some(i) = old {
            self.clients.remove(i);
        }
        self.clients.push(client);
        self.drive_sfu();
        Ok(())
    }

    pub fn leave(&mut self, index: usize) {
        let client = self.clients.remove(index);
        self.sfu
            .remove_peer(client.id)
            .expect("peer was in the SFU");
        self.drive_sfu();
    }

    pub fn client(&self, id: u64) -> &Client {
        self.clients.iter().find(|c| c.id == id).expect("client")
    }

    pub fn client_mut(&mut self, id: u64) -> &mut Client {
        self.clients
            .iter_mut()
            .find(|c| c.id == id)
            .expect("client")
    }

    /// Runs the world for `duration` of virtual time.
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            let next = self.next_event().min(end);
            self.now = next.max(self.now);
            self.step();
        }
    }

    /// Runs until every client is connected, or panics after 10 s.
    pub fn connect_all(&mut self) {
        let give_up = self.now + Duration::from_secs(10);
        while !self.clients.iter().all(|c| c.connected) {
            assert!(self.now < give_up, "clients did not connect");
            self.run(Duration::from_millis(10));
        }
    }

    fn next_event(&self) -> Instant {
        let clients = self.clients.iter().map(|c| c.timeout).min();
        [
            Some(self.sfu_timeout),
            clients,
            self.up.next_at(),
            self.down.next_at(),
            Some(self.next_audio),
            Some(self.next_video),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(self.now)
    }

    fn step(&mut self) {
        let now = self.now;
        while let Some((source, destination, bytes)) = self.up.pop_due(now) {
            if let Some(capture) = self.capture.as_mut().filter(|_| !is_stun(&bytes)) {
                capture.push(Captured {
                    at: now,
                    source,
                    destination,
                    bytes,
                });
                continue;
            }
            let started = self.measure.is_some().then(std::time::Instant::now);
            self.sfu.handle_receive(now, source, destination, &bytes);
            if let Some(started) = started {
                let receive = started.elapsed();
                // Drain per datagram so its cost and latency are its own
                // (`drive_sfu` counts its own busy time).
                self.drive_sfu();
                let took = started.elapsed();
                let m = self.measure.as_mut().expect("measuring");
                m.busy += receive;
                if is_rtp(&bytes) {
                    m.per_datagram.push(took);
                }
            }
        }
        while let Some((source, destination, bytes)) = self.down.pop_due(now) {
            if let Some(c) = self.clients.iter_mut().find(|c| c.addr == destination) {
                c.handle_datagram(now, source, &bytes)
                    .expect("client input");
                // str0m keeps one received RTP packet until polled.
                drain_client(c, now, &mut self.up);
            }
        }
        if now >= self.next_audio {
            let (every, turn) = self.turn(AUDIO_EVERY, |w| &mut w.audio_turn);
            self.next_audio = now + every;
            self.senders(turn).for_each(|c| c.send_audio(now));
        }
        if now >= self.next_video {
            let (every, turn) = self.turn(VIDEO_EVERY, |w| &mut w.video_turn);
            self.next_video = now + every;
            self.senders(turn).for_each(|c| c.send_video(now));
        }
        for c in &mut self.clients {
            c.timeout = now;
        }
        self.drive_clients();
        self.drive_sfu();
    }

    /// The interval to the next send of a kind of media and whose turn it
    /// is now: everyone every `period`, or one client every
    /// `period / clients` in turn when staggered.
    fn turn(
        &mut self,
        period: Duration,
        counter: fn(&mut Self) -> &mut usize,
    ) -> (Duration, Option<usize>) {
        let n = self.clients.len();
        if !self.stagger || n == 0 {
            return (period, None);
        }
        let turn = counter(self);
        let who = *turn % n;
        *turn = turn.wrapping_add(1);
        (period / n as u32, Some(who))
    }

    fn senders(&mut self, turn: Option<usize>) -> impl Iterator<Item = &mut Client> {
        self.clients
            .iter_mut()
            .enumerate()
            .filter(move |(i, _)| turn.is_none_or(|t| t == *i))
            .map(|(_, c)| c)
    }

    /// Polls every client until its timeout, onto the uplink.
    fn drive_clients(&mut self) {
        let now = self.now;
        for c in &mut self.clients {
            if c.timeout <= now {
                drain_client(c, now, &mut self.up);
            }
        }
    }

    /// Polls the SFU until its timeout, following the driving contract.
    pub fn drive_sfu(&mut self) {
        let now = self.now;
        let started = self.measure.is_some().then(std::time::Instant::now);
        loop {
            match self.sfu.poll(now) {
                SfuOutput::Timeout(at) => {
                    self.sfu_timeout = at.max(now + Duration::from_micros(100));
                    break;
                }
                SfuOutput::Transmit {
                    source,
                    destination,
                    bytes,
                } => {
                    if let Some(m) = self.measure.as_mut().filter(|_| is_rtp(&bytes)) {
                        m.forwarded += 1;
                    }
                    self.down.send(now, source, destination, bytes)
                }
                SfuOutput::Event(e) => {
                    if let (true, SfuEvent::LayersWanted { publisher, rids }) =
                        (self.follow_wanted, &e)
                        && let Some(client) = self.clients.iter_mut().find(|c| c.id == *publisher)
                    {
                        for (sending, (rid, _, _)) in client.sending.iter_mut().zip(LAYERS) {
                            *sending = rids.iter().any(|r| r.to_string() == *rid);
                        }
                    }
                    self.events.push((now, e));
                }
            }
        }
        if let (Some(started), Some(m)) = (started, self.measure.as_mut()) {
            m.busy += started.elapsed();
        }
    }

    /// Events since `from` (an index into `events`).
    pub fn events_since(&self, from: usize) -> impl Iterator<Item = &SfuEvent> {
        self.events[from..].iter().map(|(_, e)| e)
    }

    /// The receive slot `subscriber` gets video in, from its subscription.
    pub fn video_slot(&self, subscriber: u64) -> confab_sfu::Mid {
        self.events
            .iter()
            .find_map(|(_, e)| match e {
                SfuEvent::Subscribed {
                    subscriber: s,
                    video: Some(v),
                    ..
                } if *s == subscriber => Some(*v),
                _ => None,
            })
            .expect("subscribed")
    }
}

/// Polls a client until its timeout, onto the uplink.
fn drain_client(c: &mut Client, now: Instant, up: &mut Link) {
    let at = c
        .drain(now, |source, destination, bytes| {
            up.send(now, source, destination, bytes)
        })
        .expect("client output");
    // A client that wants `now` again waits for time to pass.
    c.timeout = at.max(now + Duration::from_micros(100));
}

/// STUN (RFC 7983: first byte 0 to 3).
fn is_stun(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| *b < 4)
}
