//! The media driver: one tokio task owns the media UDP socket and feeds
//! the sans-IO SFU (`confab_sfu`), and the signalling side reaches the SFU
//! through [`Media`].
//!
//! The SFU sits in a `std::sync::Mutex` that is never held across an
//! await: every call takes it, reads the time inside it (so time never
//! goes backwards between calls), and releases it before sending. The SFU
//! lock and the hub lock are never held together: events are collected
//! under the SFU lock and delivered to the hub after it is released, and
//! the hub's [`Outbox::left`](crate::hub::Outbox) reaches [`Media::remove`]
//! after the hub lock is released.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use confab_proto::signal::{ParticipantId, ServerMessage};
use confab_sfu::{Sfu, SfuConfig, SfuError, SfuEvent, SfuOutput, SfuStats, View};
use tokio::net::UdpSocket;
use tokio::sync::Notify;

use crate::ws::Signalling;

/// Starting bandwidth estimate per subscriber until TWCC measures one.
const INITIAL_BITRATE: u64 = 2_000_000;
/// Largest datagram read; RTP over UDP stays below a 1500-byte MTU.
const RECV_BUFFER: usize = 2048;
/// Datagrams read back to back before the SFU is polled.
const RECV_BATCH: usize = 64;

/// The SFU as the signalling side sees it. Cheap to share.
#[derive(Debug)]
pub struct Media {
    sfu: Mutex<Sfu>,
    /// Wakes the driver after a call from outside changed the SFU.
    wake: Notify,
    local: SocketAddr,
    /// Addresses clients reach the socket at (the answer's candidates).
    candidates: Vec<SocketAddr>,
}

impl Media {
    /// Takes over the bound media socket and starts the driver task, which
    /// delivers SFU events through `signalling`.
    pub fn start(
        socket: UdpSocket,
        signalling: Arc<Signalling>,
    ) -> io::Result<(Arc<Self>, tokio::task::JoinHandle<()>)> {
        let local = socket.local_addr()?;
        let candidates = candidates(local);
        let media = Arc::new(Self {
            sfu: Mutex::new(Sfu::new(SfuConfig {
                candidates: candidates.clone(),
                initial_bitrate: INITIAL_BITRATE,
            })),
            wake: Notify::new(),
            local,
            candidates,
        });
        signalling.attach_media(Arc::clone(&media));
        let task = tokio::spawn(drive(Arc::clone(&media), socket, signalling));
        Ok((media, task))
    }

    /// The address the media socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// How much state the SFU holds (all zero when nobody has media).
    pub fn stats(&self) -> SfuStats {
        self.sfu().stats()
    }

    /// Accepts a participant's offer and returns the answer. A participant
    /// who already had a media connection gets a new one in its place,
    /// but only if the new offer is accepted.
    pub fn offer(&self, peer: ParticipantId, room: u64, sdp: &str) -> Result<String, SfuError> {
        let result = self.sfu().replace_peer(Instant::now(), peer, room, sdp);
        self.wake.notify_one();
        result
    }

    /// What a participant whose signalling reconnected must be told again
    /// about its media connection: whom it receives in which slots, and
    /// which of its own layers are wanted. Empty without a connection.
    pub fn catch_up(&self, peer: ParticipantId) -> Vec<ServerMessage> {
        let sfu = self.sfu();
        let slots = sfu
            .subscriptions(peer)
            .into_iter()
            .map(|s| ServerMessage::MediaSlots {
                participant: s.publisher,
                audio_mid: s.audio.map(|m| m.to_string()),
                video_mid: s.video.map(|m| m.to_string()),
            });
        let layers = sfu
            .layers_wanted(peer)
            .map(|rids| ServerMessage::SendLayers {
                rids: rids.iter().map(|r| r.to_string()).collect(),
            });
        slots.chain(layers).collect()
    }

    /// How `subscriber` shows `publisher`.
    pub fn set_view(
        &self,
        subscriber: ParticipantId,
        publisher: ParticipantId,
        width: u32,
        height: u32,
    ) -> Result<(), SfuError> {
        let view = if width == 0 || height == 0 {
            View::Hidden
        } else {
            View::Tile { width, height }
        };
        let result = self.sfu().set_view(subscriber, publisher, view);
        self.wake.notify_one();
        result
    }

    /// Drops the media of participants whose seats were given back.
    pub fn remove(&self, peers: &[ParticipantId]) {
        if peers.is_empty() {
            return;
        }
        {
            let mut sfu = self.sfu();
            for peer in peers {
                // Participants who never offered have nothing to drop.
                let _ = sfu.remove_peer(*peer);
            }
        }
        self.wake.notify_one();
    }

    fn sfu(&self) -> MutexGuard<'_, Sfu> {
        self.sfu.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn destination(&self, source: SocketAddr) -> SocketAddr {
        destination(self.local, &self.candidates, source)
    }
}

/// The local address a datagram from `source` arrived at. A socket on a
/// wildcard address cannot tell without `IP_PKTINFO`; a sender reached it
/// through the candidate of its own address family, loopback if it is on
/// loopback, else the LAN address.
fn destination(local: SocketAddr, candidates: &[SocketAddr], source: SocketAddr) -> SocketAddr {
    if !local.ip().is_unspecified() {
        return canonical(local);
    }
    let loopback = source.ip().is_loopback();
    let family = |c: &&SocketAddr| c.is_ipv4() == source.is_ipv4();
    candidates
        .iter()
        .filter(family)
        .find(|c| c.ip().is_loopback() == loopback)
        .or_else(|| candidates.iter().find(family))
        .or_else(|| candidates.first())
        .copied()
        .unwrap_or(local)
}

/// An IPv4 sender as a dual-stack (`[::]`) socket reports it,
/// `::ffff:a.b.c.d`, is the IPv4 address `a.b.c.d` to the SFU: that is
/// the address its ICE candidates and the answer's candidates use.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// The address to send to from a socket bound to `local`: an IPv6 socket
/// reaches IPv4 peers at their IPv4-mapped address.
fn on_socket(local: SocketAddr, destination: SocketAddr) -> SocketAddr {
    match (local, destination.ip()) {
        (SocketAddr::V6(_), IpAddr::V4(v4)) => {
            SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), destination.port())
        }
        _ => destination,
    }
}

/// Host candidates for a socket bound to `local`: the address itself, or
/// for a wildcard bind loopback plus the address of the interface that
/// holds the default route (found by routing a UDP socket without
/// sending). A `[::]` socket is dual-stack unless the system made it
/// IPv6-only, so it offers the IPv4 candidates too; on an IPv6-only
/// socket they simply never connect.
fn candidates(local: SocketAddr) -> Vec<SocketAddr> {
    let port = local.port();
    if !local.ip().is_unspecified() {
        return vec![canonical(local)];
    }
    let mut out = Vec::new();
    if local.is_ipv6() {
        out.push(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port));
        let probe = SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 9));
        out.extend(
            lan_address(Ipv6Addr::UNSPECIFIED.into(), probe).map(|ip| SocketAddr::new(ip, port)),
        );
    }
    out.push(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port));
    let probe = SocketAddr::from(([192, 0, 2, 1], 9));
    out.extend(
        lan_address(Ipv4Addr::UNSPECIFIED.into(), probe).map(|ip| SocketAddr::new(ip, port)),
    );
    out
}

/// The address of the interface that routes to `probe`, if not loopback.
fn lan_address(unspecified: IpAddr, probe: SocketAddr) -> Option<IpAddr> {
    StdUdpSocket::bind(SocketAddr::new(unspecified, 0))
        .and_then(|s| s.connect(probe).and_then(|()| s.local_addr()))
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// The driver loop: receive, poll the SFU until it names a timeout, send,
/// deliver events, then wait for the next datagram, the timeout, or a
/// call from signalling.
async fn drive(media: Arc<Media>, socket: UdpSocket, signalling: Arc<Signalling>) {
    let mut buf = vec![0u8; RECV_BUFFER];
    let mut transmits = Vec::new();
    let mut events = Vec::new();
    loop {
        let timeout = {
            let mut sfu = media.sfu();
            let now = Instant::now();
            loop {
                match sfu.poll(now) {
                    SfuOutput::Transmit {
                        destination, bytes, ..
                    } => transmits.push((destination, bytes)),
                    SfuOutput::Event(event) => events.push(event),
                    SfuOutput::Timeout(at) => break at,
                }
            }
        };
        for (destination, bytes) in transmits.drain(..) {
            let to = on_socket(media.local, destination);
            if let Err(e) = socket.send_to(&bytes, to).await {
                tracing::debug!(%destination, error = %e, "media send failed");
            }
        }
        for event in events.drain(..) {
            on_event(&signalling, event);
        }
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, source)) => {
                    let mut sfu = media.sfu();
                    let source = canonical(source);
                    let destination = media.destination(source);
                    sfu.handle_receive(Instant::now(), source, destination, &buf[..len]);
                    for _ in 1..RECV_BATCH {
                        let Ok((len, source)) = socket.try_recv_from(&mut buf) else {
                            break;
                        };
                        let source = canonical(source);
                        let destination = media.destination(source);
                        sfu.handle_receive(Instant::now(), source, destination, &buf[..len]);
                    }
                }
                Err(e) => {
                    // ICMP errors surface here on some systems; they are
                    // about one peer, not the socket. Pause so a socket
                    // that keeps failing cannot spin.
                    tracing::debug!(error = %e, "media receive failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            () = tokio::time::sleep_until(timeout.into()) => {}
            () = media.wake.notified() => {}
        }
    }
}

/// Tells clients what the SFU did.
fn on_event(signalling: &Signalling, event: SfuEvent) {
    match event {
        SfuEvent::Connected { peer } => tracing::debug!(peer, "media connected"),
        SfuEvent::Subscribed {
            subscriber,
            publisher,
            audio,
            video,
        } => signalling.with_hub(|hub| {
            hub.send_to_participant(
                subscriber,
                ServerMessage::MediaSlots {
                    participant: publisher,
                    audio_mid: audio.map(|m| m.to_string()),
                    video_mid: video.map(|m| m.to_string()),
                },
            )
        }),
        SfuEvent::Unsubscribed {
            subscriber,
            publisher,
        } => signalling.with_hub(|hub| {
            hub.send_to_participant(
                subscriber,
                ServerMessage::MediaSlotFreed {
                    participant: publisher,
                },
            )
        }),
        SfuEvent::NoFreeSlot {
            subscriber,
            publisher,
            shown,
            others,
        } => {
            tracing::info!(subscriber, publisher, "offer had too few receive slots");
            signalling.with_hub(|hub| {
                hub.send_to_participant(
                    subscriber,
                    ServerMessage::MediaSlotsFull {
                        participant: publisher,
                        shown: u32::try_from(shown).unwrap_or(u32::MAX),
                        others: u32::try_from(others).unwrap_or(u32::MAX),
                    },
                )
            });
        }
        SfuEvent::LayersWanted { publisher, rids } => signalling.with_hub(|hub| {
            hub.send_to_participant(
                publisher,
                ServerMessage::SendLayers {
                    rids: rids.iter().map(|r| r.to_string()).collect(),
                },
            )
        }),
        SfuEvent::ActiveSpeaker { peer, .. } => signalling.with_hub(|hub| {
            hub.broadcast_with(peer, &ServerMessage::ActiveSpeaker { participant: peer })
        }),
        SfuEvent::PeerClosed { peer, reason } => {
            tracing::info!(peer, ?reason, "media connection lost; freeing the seat");
            signalling.with_hub(|hub| hub.media_failed(peer));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_specific_bind_is_its_own_only_candidate() {
        let local = addr("192.168.1.20:5000");
        assert_eq!(candidates(local), vec![local]);
        assert_eq!(destination(local, &[local], addr("10.0.0.9:40000")), local);
    }

    #[test]
    fn a_wildcard_bind_offers_loopback_first_and_routes_by_sender() {
        let local = addr("0.0.0.0:5000");
        let found = candidates(local);
        assert_eq!(found[0], addr("127.0.0.1:5000"));
        assert!(found.len() <= 2 && found.iter().all(|c| c.port() == 5000 && c.is_ipv4()));
        assert!(found[1..].iter().all(|c| !c.ip().is_loopback()));

        let lan = [addr("127.0.0.1:5000"), addr("192.168.1.20:5000")];
        assert_eq!(destination(local, &lan, addr("127.0.0.1:40000")), lan[0]);
        assert_eq!(destination(local, &lan, addr("192.168.1.31:40000")), lan[1]);
        let loopback_only = [addr("127.0.0.1:5000")];
        assert_eq!(
            destination(local, &loopback_only, addr("[::1]:40000")),
            loopback_only[0],
            "no candidate of its family: the first one"
        );
        assert_eq!(
            destination(local, &loopback_only, addr("192.168.1.31:40000")),
            loopback_only[0]
        );
    }

    #[test]
    fn a_dual_stack_bind_offers_both_families_and_routes_ipv4_senders_to_ipv4() {
        let local = addr("[::]:5000");
        let found = candidates(local);
        assert_eq!(found[0], addr("[::1]:5000"));
        assert!(found.contains(&addr("127.0.0.1:5000")), "{found:?}");

        // An IPv4 client seen through the dual-stack socket.
        let mapped = addr("[::ffff:127.0.0.1]:40000");
        let source = canonical(mapped);
        assert_eq!(source, addr("127.0.0.1:40000"));
        assert_eq!(destination(local, &found, source), addr("127.0.0.1:5000"));
        assert_eq!(on_socket(local, source), mapped, "sent back mapped");
        let v6 = addr("[::1]:40000");
        assert_eq!((canonical(v6), on_socket(local, v6)), (v6, v6));
        assert_eq!(destination(local, &found, v6), addr("[::1]:5000"));
        let v4_socket = addr("0.0.0.0:5000");
        assert_eq!(on_socket(v4_socket, source), source);
    }
}
