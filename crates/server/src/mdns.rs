//! Announcing the host on the office network with mDNS (DNS-SD), and
//! finding hosts announced by others, so a colleague's app lists the
//! office's server without anyone typing an address.
//!
//! The service type is `_confab._tcp.local.`; the instance is named after
//! the computer, the port is the HTTP port, and the TXT record carries
//! `path=/` and the server's version. A server listening on loopback only
//! announces nothing: nobody else could connect.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent, ServiceInfo};

/// The DNS-SD service type Confab hosts announce.
pub const SERVICE_TYPE: &str = "_confab._tcp.local.";

/// Why announcing or browsing failed (no multicast-capable interface, a
/// name that is not a valid DNS label, ...).
#[derive(Debug, thiserror::Error)]
#[error("mDNS: {0}")]
pub struct MdnsError(#[from] mdns_sd::Error);

/// A running announcement; [`Advertisement::withdraw`] says goodbye.
pub struct Advertisement {
    daemon: ServiceDaemon,
    fullname: String,
}

impl std::fmt::Debug for Advertisement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advertisement")
            .field("fullname", &self.fullname)
            .finish()
    }
}

/// Announces a server bound to `bound` as `instance`, unless it listens on
/// loopback only (then `Ok(None)`).
pub fn advertise(bound: SocketAddr, instance: &str) -> Result<Option<Advertisement>, MdnsError> {
    if bound.ip().is_loopback() {
        return Ok(None);
    }
    advertise_on(bound, instance, false).map(Some)
}

/// [`advertise`] for any address; with `loopback`, also on the loopback
/// interface, which is how tests on one machine see it.
pub fn advertise_on(
    bound: SocketAddr,
    instance: &str,
    loopback: bool,
) -> Result<Advertisement, MdnsError> {
    let daemon = ServiceDaemon::new()?;
    if loopback {
        daemon.enable_interface(IfKind::LoopbackV4)?;
    }
    let host = format!("{}.local.", dns_label(instance));
    let properties = [("path", "/"), ("version", env!("CARGO_PKG_VERSION"))];
    let info = if bound.ip().is_unspecified() {
        ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            "",
            bound.port(),
            &properties[..],
        )?
        .enable_addr_auto()
    } else {
        ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            bound.ip(),
            bound.port(),
            &properties[..],
        )?
    };
    let fullname = info.get_fullname().to_owned();
    daemon.register(info)?;
    tracing::info!(%fullname, "announced on the network (mDNS)");
    Ok(Advertisement { daemon, fullname })
}

impl Advertisement {
    /// Tells the network the host is gone and stops the daemon.
    pub fn withdraw(self) {
        if let Ok(done) = self.daemon.unregister(&self.fullname) {
            // Goodbye packets go out within a second; do not hang on them.
            let _ = done.recv_timeout(std::time::Duration::from_secs(1));
        }
        let _ = self.daemon.shutdown();
    }
}

/// A host found on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundHost {
    /// The announced instance name, usually the computer's name.
    pub name: String,
    /// A URL to reach it, IPv4 preferred.
    pub url: String,
}

/// Browses for hosts in the background and keeps the current list.
pub struct Browser {
    daemon: ServiceDaemon,
    found: Arc<Mutex<BTreeMap<String, FoundHost>>>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("found", &self.found)
            .finish()
    }
}

impl Browser {
    pub fn start(loopback: bool) -> Result<Self, MdnsError> {
        let daemon = ServiceDaemon::new()?;
        if loopback {
            daemon.enable_interface(IfKind::LoopbackV4)?;
        }
        let events = daemon.browse(SERVICE_TYPE)?;
        let found = Arc::new(Mutex::new(BTreeMap::new()));
        let list = Arc::clone(&found);
        std::thread::Builder::new()
            .name("mdns browse".into())
            .spawn(move || {
                // Ends when the daemon shuts down and drops the sender.
                while let Ok(event) = events.recv() {
                    let mut list = list.lock().unwrap_or_else(PoisonError::into_inner);
                    match event {
                        ServiceEvent::ServiceResolved(service) => {
                            let ips = service.addresses.iter().map(|ip| ip.to_ip_addr());
                            if let Some(host) = found_host(&service.fullname, ips, service.port) {
                                list.insert(service.fullname.clone(), host);
                            }
                        }
                        ServiceEvent::ServiceRemoved(_, fullname) => {
                            list.remove(&fullname);
                        }
                        _ => {}
                    }
                }
            })
            .map_err(|e| MdnsError(mdns_sd::Error::Msg(e.to_string())))?;
        Ok(Self { daemon, found })
    }

    /// Hosts announced right now, by name.
    pub fn hosts(&self) -> Vec<FoundHost> {
        let list = self.found.lock().unwrap_or_else(PoisonError::into_inner);
        list.values().cloned().collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

/// The instance name from `name._confab._tcp.local.` and a URL from the
/// best address: IPv4 before IPv6, never link-local IPv6 (a browser needs a
/// zone for it).
fn found_host(
    fullname: &str,
    addresses: impl Iterator<Item = IpAddr>,
    port: u16,
) -> Option<FoundHost> {
    let name = fullname
        .strip_suffix(SERVICE_TYPE)
        .map(|n| n.trim_end_matches('.'))
        .unwrap_or(fullname)
        .replace("\\ ", " ");
    let ip = addresses
        .filter(|ip| match ip {
            IpAddr::V6(v6) => !v6.is_unicast_link_local(),
            IpAddr::V4(_) => true,
        })
        .min_by_key(|ip| (ip.is_ipv6(), ip.is_loopback()))?;
    Some(FoundHost {
        name,
        url: format!("http://{}", SocketAddr::new(ip, port)),
    })
}

/// The name a host is announced under: the computer's.
pub fn computer_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Confab host".into())
}

/// A DNS label from a computer's name: letters, digits and hyphens.
fn dns_label(name: &str) -> String {
    let label: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        "confab-host".into()
    } else {
        label.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_loopback_only_server_is_not_announced() {
        let bound = "127.0.0.1:8443".parse().unwrap();
        assert!(advertise(bound, "desk").unwrap().is_none());
    }

    #[test]
    fn found_hosts_prefer_ipv4_and_skip_link_local_ipv6() {
        let ips = ["fe80::1", "2001:db8::2", "192.168.1.9"].map(|s| s.parse().unwrap());
        let host = found_host("Front desk._confab._tcp.local.", ips.into_iter(), 8443).unwrap();
        assert_eq!(host.name, "Front desk");
        assert_eq!(host.url, "http://192.168.1.9:8443");
        let only_link_local = ["fe80::1".parse().unwrap()];
        assert_eq!(
            found_host("x._confab._tcp.local.", only_link_local.into_iter(), 1),
            None
        );
    }

    #[test]
    fn computer_names_become_dns_labels() {
        assert_eq!(dns_label("Front desk PC"), "Front-desk-PC");
        assert_eq!(dns_label("ü"), "confab-host");
    }

    /// Announce and browse over the loopback interface: real multicast
    /// through mdns-sd's sockets, which works on these machines' `lo`.
    #[test]
    fn an_announced_host_is_found_by_a_browser_on_the_same_machine_and_goes_when_withdrawn() {
        let bound: SocketAddr = "127.0.0.1:18443".parse().unwrap();
        let browser = Browser::start(true).expect("browse on loopback");
        let ad = advertise_on(bound, "Loopback test host", true).expect("announce on loopback");
        let wait_until = |what: &str, done: &dyn Fn(&[FoundHost]) -> bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let hosts = browser.hosts();
                if done(&hosts) {
                    return hosts;
                }
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for {what}: {hosts:?}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let named = |h: &FoundHost| h.name == "Loopback test host";
        let hosts = wait_until("the host", &|hosts| hosts.iter().any(named));
        let host = hosts.into_iter().find(named).unwrap();
        assert_eq!(host.url, "http://127.0.0.1:18443");
        ad.withdraw();
        wait_until("the goodbye", &|hosts| !hosts.iter().any(named));
    }
}
