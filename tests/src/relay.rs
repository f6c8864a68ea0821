//! A UDP relay that impairs what passes through it, for real-socket media
//! tests: random loss, delay with jitter (which reorders, as netem does),
//! and outages switched on and off while the test runs.
//!
//! The kernel's netem qdisc is not available on these machines (no module
//! loading), so the impairment lives in user space. The relay behaves like a
//! NAT: clients send to [`ImpairedRelay::addr`]; each distinct client address
//! gets its own upstream socket towards the target, so the target sees one
//! peer per client and answers reach the right client.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What happens to each datagram, in both directions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    /// Probability in 0..=1 that a datagram is dropped.
    pub loss: f64,
    /// Fixed one-way delay added to every datagram.
    pub delay: Duration,
    /// Each datagram's delay varies uniformly by up to this much either
    /// side of `delay` (never below zero), so datagrams can overtake.
    pub jitter: Duration,
    /// Drops everything while set: a burst outage.
    pub outage: bool,
}

impl Impairment {
    /// Passes everything through untouched.
    pub const NONE: Self = Self {
        loss: 0.0,
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        outage: false,
    };

    fn delay_for(&self, rng: &mut fastrand::Rng) -> Option<Duration> {
        if self.outage || rng.f64() < self.loss {
            return None;
        }
        let spread = self.jitter.as_secs_f64();
        let offset = (rng.f64() * 2.0 - 1.0) * spread;
        Some(Duration::from_secs_f64(
            (self.delay.as_secs_f64() + offset).max(0.0),
        ))
    }
}

/// Datagrams seen by the relay, both directions together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounts {
    pub received: u64,
    pub dropped: u64,
    pub forwarded: u64,
}

#[derive(Debug)]
struct Shared {
    /// Where client datagrams go; `None` drops them until it is set.
    target: Option<SocketAddr>,
    impairment: Impairment,
    rng: fastrand::Rng,
    counts: RelayCounts,
}

/// A running relay; its tasks stop when it is dropped.
#[derive(Debug)]
pub struct ImpairedRelay {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ImpairedRelay {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A datagram waiting for its release time.
struct Pending {
    at: Instant,
    order: u64,
    /// Back to the client through the listening socket, or towards the
    /// target through the client's upstream socket.
    to_client: bool,
    client: SocketAddr,
    bytes: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

impl ImpairedRelay {
    /// Listens on a free loopback port and relays to `target`. `seed`
    /// makes the pattern of losses and delays repeatable.
    pub async fn start(target: SocketAddr, impairment: Impairment, seed: u64) -> Self {
        let relay = Self::bind(target.ip(), impairment, seed).await;
        relay.set_target(target);
        relay
    }

    /// Listens on a free port of `ip` with no target yet, for a target
    /// that must know the relay's address before it starts (a server that
    /// hands the relay's address to its clients).
    pub async fn bind(ip: std::net::IpAddr, impairment: Impairment, seed: u64) -> Self {
        let listen = Arc::new(
            UdpSocket::bind((ip, 0))
                .await
                .expect("relay socket on loopback"),
        );
        let addr = listen.local_addr().expect("relay address");
        let shared = Arc::new(Mutex::new(Shared {
            target: None,
            impairment,
            rng: fastrand::Rng::with_seed(seed),
            counts: RelayCounts::default(),
        }));
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (upstream_tx, upstream_rx) = mpsc::unbounded_channel();
        let tasks = vec![
            tokio::spawn(from_clients(
                Arc::clone(&listen),
                Arc::clone(&shared),
                queue_tx,
                upstream_tx,
            )),
            tokio::spawn(release(listen, Arc::clone(&shared), queue_rx, upstream_rx)),
        ];
        Self {
            addr,
            shared,
            tasks,
        }
    }

    /// Sets where client datagrams go from now on.
    pub fn set_target(&self, target: SocketAddr) {
        lock(&self.shared).target = Some(target);
    }

    /// Where clients send to reach the target through the relay.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the impairment from now on (datagrams already delayed keep
    /// their release time).
    pub fn set(&self, impairment: Impairment) {
        lock(&self.shared).impairment = impairment;
    }

    pub fn impairment(&self) -> Impairment {
        lock(&self.shared).impairment
    }

    pub fn counts(&self) -> RelayCounts {
        lock(&self.shared).counts
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Decides a datagram's fate: `None` when it is lost, else its release time.
fn admit(shared: &Mutex<Shared>) -> Option<Instant> {
    let mut s = lock(shared);
    s.counts.received += 1;
    let impairment = s.impairment;
    match impairment.delay_for(&mut s.rng) {
        Some(delay) => Some(Instant::now() + delay),
        None => {
            s.counts.dropped += 1;
            None
        }
    }
}

/// Receives from clients, opening an upstream socket (and a task reading
/// its answers) for each new client address.
async fn from_clients(
    listen: Arc<UdpSocket>,
    shared: Arc<Mutex<Shared>>,
    queue: mpsc::UnboundedSender<Pending>,
    upstream_sockets: mpsc::UnboundedSender<(SocketAddr, Arc<UdpSocket>)>,
) {
    // Dropped with this task when the relay stops, which stops the readers.
    let mut known: HashMap<SocketAddr, AbortOnDrop> = HashMap::new();
    let mut order = 0u64;
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((len, client)) = listen.recv_from(&mut buf).await else {
            continue;
        };
        if let Entry::Vacant(entry) = known.entry(client) {
            let Ok(socket) = UdpSocket::bind((listen_ip(&listen), 0)).await else {
                continue;
            };
            let socket = Arc::new(socket);
            let _ = upstream_sockets.send((client, Arc::clone(&socket)));
            let task = tokio::spawn(from_target(
                socket,
                client,
                Arc::clone(&shared),
                queue.clone(),
            ));
            entry.insert(AbortOnDrop(task));
        }
        if let Some(at) = admit(&shared) {
            order += 1;
            let _ = queue.send(Pending {
                at,
                order: order << 1,
                to_client: false,
                client,
                bytes: buf[..len].to_vec(),
            });
        }
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Receives the target's answers to one client.
async fn from_target(
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    queue: mpsc::UnboundedSender<Pending>,
) {
    let mut order = 0u64;
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok(len) = socket.recv(&mut buf).await else {
            continue;
        };
        if let Some(at) = admit(&shared) {
            order += 1;
            let sent = queue.send(Pending {
                at,
                order: (order << 1) | 1,
                to_client: true,
                client,
                bytes: buf[..len].to_vec(),
            });
            if sent.is_err() {
                return;
            }
        }
    }
}

/// Sends each delayed datagram when its time comes.
async fn release(
    listen: Arc<UdpSocket>,
    shared: Arc<Mutex<Shared>>,
    mut queue: mpsc::UnboundedReceiver<Pending>,
    mut upstream_sockets: mpsc::UnboundedReceiver<(SocketAddr, Arc<UdpSocket>)>,
) {
    let mut upstream: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut waiting: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    loop {
        let next = waiting.peek().map(|Reverse(p)| p.at);
        tokio::select! {
            pending = queue.recv() => match pending {
                Some(p) => waiting.push(Reverse(p)),
                None => return,
            },
            Some((client, socket)) = upstream_sockets.recv() => {
                upstream.insert(client, socket);
            }
            () = sleep_until(next) => {
                while let Some(Reverse(p)) = waiting.peek() {
                    if p.at > Instant::now() {
                        break;
                    }
                    let Some(Reverse(p)) = waiting.pop() else { break };
                    // The upstream socket is announced before the first
                    // datagram of its client is queued.
                    while let Ok((client, socket)) = upstream_sockets.try_recv() {
                        upstream.insert(client, socket);
                    }
                    let target = lock(&shared).target;
                    let sent = if p.to_client {
                        listen.send_to(&p.bytes, p.client).await
                    } else if let (Some(socket), Some(target)) = (upstream.get(&p.client), target) {
                        socket.send_to(&p.bytes, target).await
                    } else {
                        continue;
                    };
                    if sent.is_ok() {
                        lock(&shared).counts.forwarded += 1;
                    }
                }
            }
        }
    }
}

fn listen_ip(listen: &UdpSocket) -> std::net::IpAddr {
    listen
        .local_addr()
        .map_or(std::net::Ipv4Addr::LOCALHOST.into(), |a| a.ip())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `count` numbered datagrams through a relay to a fresh target
    /// socket, `gap` apart, and returns the numbers in arrival order.
    async fn through(
        relay_setup: Impairment,
        count: u32,
        gap: Duration,
    ) -> (Vec<u32>, RelayCounts) {
        let target = UdpSocket::bind("127.0.0.1:0").await.expect("target");
        let relay = ImpairedRelay::start(target.local_addr().expect("addr"), relay_setup, 7).await;
        // Read while sending: a socket left unread holds only a few hundred
        // datagrams, and the kernel's drops would look like the relay's.
        let quiet = relay_setup.delay + relay_setup.jitter + Duration::from_millis(300);
        let reader = tokio::spawn(async move {
            let mut arrived = Vec::new();
            let mut buf = [0u8; 16];
            while let Ok(Ok(len)) = tokio::time::timeout(quiet, target.recv(&mut buf)).await {
                assert_eq!(len, 4);
                arrived.push(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
            }
            arrived
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        for n in 0..count {
            client
                .send_to(&n.to_be_bytes(), relay.addr())
                .await
                .expect("send");
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            } else if n % 16 == 15 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let arrived = reader.await.expect("reader");
        (arrived, relay.counts())
    }

    #[tokio::test]
    async fn an_unimpaired_relay_delivers_everything_in_order_and_carries_answers_back() {
        let (arrived, counts) = through(Impairment::NONE, 200, Duration::ZERO).await;
        assert_eq!(arrived, (0..200).collect::<Vec<_>>());
        assert_eq!(
            (counts.received, counts.dropped, counts.forwarded),
            (200, 0, 200)
        );

        let echo = UdpSocket::bind("127.0.0.1:0").await.expect("echo");
        let echo_addr = echo.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok((len, from)) = echo.recv_from(&mut buf).await {
                let _ = echo.send_to(&buf[..len], from).await;
            }
        });
        let relay = ImpairedRelay::start(echo_addr, Impairment::NONE, 1).await;
        let clients = [
            UdpSocket::bind("127.0.0.1:0").await.expect("a"),
            UdpSocket::bind("127.0.0.1:0").await.expect("b"),
        ];
        for (i, client) in clients.iter().enumerate() {
            client
                .send_to(&[i as u8; 3], relay.addr())
                .await
                .expect("send");
        }
        for (i, client) in clients.iter().enumerate() {
            let mut buf = [0u8; 8];
            let (len, from) =
                tokio::time::timeout(Duration::from_secs(2), client.recv_from(&mut buf))
                    .await
                    .expect("an answer in time")
                    .expect("recv");
            assert_eq!((&buf[..len], from), (&[i as u8; 3][..], relay.addr()));
        }
    }

    #[tokio::test]
    async fn random_loss_drops_about_the_configured_share() {
        let lossy = Impairment {
            loss: 0.05,
            ..Impairment::NONE
        };
        let (arrived, counts) = through(lossy, 2000, Duration::ZERO).await;
        let lost = 2000 - arrived.len();
        assert_eq!(lost as u64, counts.dropped);
        assert!((50..=160).contains(&lost), "lost {lost} of 2000 at 5%");
    }

    #[tokio::test]
    async fn jitter_delays_and_reorders_but_loses_nothing() {
        let jittery = Impairment {
            delay: Duration::from_millis(40),
            jitter: Duration::from_millis(30),
            ..Impairment::NONE
        };
        let started = Instant::now();
        let (arrived, _) = through(jittery, 100, Duration::from_millis(2)).await;
        let mut sorted = arrived.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(arrived, sorted, "30 ms of jitter on 2 ms spacing reorders");
        assert!(started.elapsed() >= Duration::from_millis(10));
    }

    #[tokio::test]
    async fn an_outage_drops_everything_until_it_ends() {
        let target = UdpSocket::bind("127.0.0.1:0").await.expect("target");
        let relay =
            ImpairedRelay::start(target.local_addr().expect("addr"), Impairment::NONE, 3).await;
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        relay.set(Impairment {
            outage: true,
            ..Impairment::NONE
        });
        client.send_to(b"lost", relay.addr()).await.expect("send");
        let mut buf = [0u8; 8];
        let early = tokio::time::timeout(Duration::from_millis(200), target.recv(&mut buf)).await;
        assert!(early.is_err(), "nothing passes during an outage");
        relay.set(Impairment::NONE);
        client.send_to(b"kept", relay.addr()).await.expect("send");
        let len = tokio::time::timeout(Duration::from_secs(2), target.recv(&mut buf))
            .await
            .expect("delivered after the outage")
            .expect("recv");
        assert_eq!(&buf[..len], b"kept");
        assert_eq!(relay.counts().dropped, 1);
    }
}
