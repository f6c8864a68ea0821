//! Host mode inside the app: the same `confab-server` library the headless
//! binary runs, started and stopped from the host panel in this process.
//!
//! The panel needs what a person hands colleagues (the LAN URLs, with QR
//! codes), the lines in use out of the licensed number, and a way to
//! install a licence. Data lives in `<app data dir>/host`, apart from the
//! app's own settings, so the directory can be handed to `confab-server
//! --data-dir` unchanged.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use confab_server::{Config, Overrides, RunningServer};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;
use ts_rs::TS;

/// A URL colleagues can open, and its QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HostUrl {
    pub url: String,
    /// The URL as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Everything the host panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HostStatus {
    pub running: bool,
    /// The address the server is bound to, e.g. `0.0.0.0:8443`.
    pub bound: Option<String>,
    /// Where colleagues on the office network reach it; empty when it
    /// listens on loopback only.
    pub lan_urls: Vec<HostUrl>,
    /// SHA-256 of the certificate the server presents, colon-separated
    /// upper-case hex, when it speaks HTTPS: what colleagues compare with
    /// the fingerprint their browser shows before trusting a self-signed
    /// certificate.
    pub tls_fingerprint: Option<String>,
    /// The admin console, as this computer reaches it.
    pub admin_url: Option<String>,
    /// While no admin password is set: the one-time link that sets it.
    pub admin_setup_url: Option<String>,
    pub lines_in_use: u32,
    pub lines_licensed: u32,
    /// "Free tier: 5 lines (no licence installed)", "Licensed to …".
    pub licence_summary: Option<String>,
    /// Why a stored licence is not in force, if it is not.
    pub licence_problem: Option<String>,
    /// Where the host keeps its database.
    pub data_dir: String,
}

/// Host mode's state: stopped, or a running server.
#[derive(Debug)]
pub struct Host {
    data_dir: PathBuf,
    server: Option<RunningServer>,
    advertisement: Option<confab_server::mdns::Advertisement>,
}

/// Why host mode could not do what was asked, as a sentence.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("“{0}” is not an address to listen on; write it like 0.0.0.0:8443.")]
    BadBind(String),
    #[error("Host mode is not running; start it first.")]
    NotRunning,
    #[error("{0}")]
    Server(String),
    #[error("The licence was not installed: {0}")]
    LicenceRefused(String),
}

/// An error and its causes on one line: "cannot listen on TCP …: Address in use".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Host {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            server: None,
            advertisement: None,
        }
    }

    /// The running server, while host mode is on.
    pub fn running(&self) -> Option<&RunningServer> {
        self.server.as_ref()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts the server on `bind`; stops a running one first.
    pub async fn start(&mut self, bind: &str) -> Result<HostStatus, HostError> {
        let listen: SocketAddr = bind
            .trim()
            .parse()
            .map_err(|_| HostError::BadBind(bind.to_owned()))?;
        self.stop().await?;
        let mut config = Config::load(&Overrides {
            data_dir: Some(self.data_dir.clone()),
            listen: Some(listen),
            ..Overrides::default()
        })
        .map_err(|e| HostError::Server(chain(&e)))?;
        // Join links and invitations must work for colleagues: with a
        // wildcard bind, put the first LAN address in them (over HTTPS,
        // which the server speaks off loopback).
        if config.public_url.is_none() {
            let tls = config.tls.enabled_for(listen.ip());
            config.public_url = lan_urls(listen, tls, &interface_addresses())
                .into_iter()
                .next();
        }
        let server = confab_server::start(&config)
            .await
            .map_err(|e| HostError::Server(chain(&e)))?;
        let bound = server.http_addr();
        self.advertisement =
            match confab_server::mdns::advertise(bound, &confab_server::mdns::computer_name()) {
                Ok(advertisement) => advertisement,
                Err(e) => {
                    tracing::warn!("the host is not announced on the network: {e}");
                    None
                }
            };
        self.server = Some(server);
        self.status().await
    }

    pub async fn stop(&mut self) -> Result<(), HostError> {
        if let Some(advertisement) = self.advertisement.take() {
            // Saying goodbye waits up to a second for the daemon.
            let _ = tokio::task::spawn_blocking(move || advertisement.withdraw()).await;
        }
        if let Some(server) = self.server.take() {
            server
                .stop()
                .await
                .map_err(|e| HostError::Server(chain(&e)))?;
        }
        Ok(())
    }

    pub async fn status(&self) -> Result<HostStatus, HostError> {
        let data_dir = self.data_dir.display().to_string();
        let Some(server) = &self.server else {
            return Ok(HostStatus {
                running: false,
                bound: None,
                lan_urls: Vec::new(),
                tls_fingerprint: None,
                admin_url: None,
                admin_setup_url: None,
                lines_in_use: 0,
                lines_licensed: 0,
                licence_summary: None,
                licence_problem: None,
                data_dir,
            });
        };
        let licence = server
            .licence_info()
            .await
            .map_err(|e| HostError::Server(chain(&e)))?;
        let (in_use, limit) = server.lines();
        let bound = server.http_addr();
        let lan_urls = lan_urls(bound, server.tls().is_some(), &interface_addresses())
            .into_iter()
            .map(|url| HostUrl {
                qr_svg: qr_svg(&url),
                url,
            })
            .collect();
        Ok(HostStatus {
            running: true,
            bound: Some(bound.to_string()),
            lan_urls,
            tls_fingerprint: server.tls().map(|tls| tls.fingerprint().to_owned()),
            admin_url: Some(format!("{}/admin", server.base_url())),
            admin_setup_url: server.admin_setup_link().map(str::to_owned),
            lines_in_use: in_use,
            lines_licensed: limit,
            licence_summary: Some(licence.summary),
            licence_problem: licence.problem,
            data_dir,
        })
    }

    /// Installs a licence file; a refused one changes nothing and says why.
    pub async fn install_licence(&self, file: Vec<u8>) -> Result<HostStatus, HostError> {
        let server = self.server.as_ref().ok_or(HostError::NotRunning)?;
        server.install_licence(file).await.map_err(|e| match e {
            confab_server::licence::InstallError::Refused(reason) => {
                HostError::LicenceRefused(reason.to_string())
            }
            other => HostError::Server(chain(&other)),
        })?;
        self.status().await
    }

    /// The page to open for administration: the one-time set-up link while
    /// there is no admin password, the console after.
    pub fn admin_page(&self) -> Result<String, HostError> {
        let server = self.server.as_ref().ok_or(HostError::NotRunning)?;
        Ok(match server.admin_setup_link() {
            Some(link) => link.to_owned(),
            None => format!("{}/admin", server.base_url()),
        })
    }
}

/// The computer's addresses, without loopback.
fn interface_addresses() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces
            .into_iter()
            .filter(|i| !i.is_loopback())
            .map(|i| i.ip())
            .collect(),
        Err(e) => {
            tracing::warn!("cannot list network interfaces: {e}");
            Vec::new()
        }
    }
}

/// How colleagues reach a server bound to `bound`, given this computer's
/// addresses: every LAN address for a wildcard bind, the address itself
/// otherwise, nothing for loopback. IPv4 first (people read those aloud);
/// link-local IPv6 is left out, as browsers need a zone id for it.
pub fn lan_urls(bound: SocketAddr, tls: bool, addresses: &[IpAddr]) -> Vec<String> {
    let scheme = if tls { "https" } else { "http" };
    let usable = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified() && !v4.is_link_local(),
        IpAddr::V6(v6) => !v6.is_loopback() && !v6.is_unspecified() && !v6.is_unicast_link_local(),
    };
    let mut ips: Vec<IpAddr> = match bound.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => addresses
            .iter()
            .filter(|ip| ip.is_ipv4())
            .copied()
            .collect(),
        // A v6 wildcard takes IPv4 too on Linux's default (dual-stack).
        IpAddr::V6(v6) if v6.is_unspecified() => addresses.to_vec(),
        ip => vec![ip],
    };
    ips.retain(usable);
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    ips.dedup();
    ips.into_iter()
        .map(|ip| format!("{scheme}://{}", SocketAddr::new(ip, bound.port())))
        .collect()
}

/// A QR code for `url`, as SVG, with the quiet zone scanners need.
pub fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        // Only a URL longer than a QR code holds (about 2,900 bytes) fails.
        Err(e) => {
            tracing::warn!("no QR code for {url}: {e}");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn a_wildcard_bind_is_reached_at_every_lan_address_ipv4_first() {
        let here = ips(&[
            "fe80::1",
            "192.168.1.20",
            "2001:db8::5",
            "10.0.0.7",
            "169.254.3.3",
        ]);
        assert_eq!(
            lan_urls("0.0.0.0:8443".parse().unwrap(), true, &here),
            ["https://10.0.0.7:8443", "https://192.168.1.20:8443"]
        );
        assert_eq!(
            lan_urls("[::]:8443".parse().unwrap(), true, &here),
            [
                "https://10.0.0.7:8443",
                "https://192.168.1.20:8443",
                "https://[2001:db8::5]:8443"
            ]
        );
    }

    #[test]
    fn a_specific_bind_is_its_own_url_and_loopback_has_none() {
        let here = ips(&["192.168.1.20"]);
        assert_eq!(
            lan_urls("192.168.1.20:9000".parse().unwrap(), false, &here),
            ["http://192.168.1.20:9000"]
        );
        assert!(lan_urls("127.0.0.1:8443".parse().unwrap(), true, &here).is_empty());
    }

    #[test]
    fn the_qr_code_is_an_svg_document() {
        let svg = qr_svg("http://192.168.1.20:8443");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
        assert!(svg.contains("#000000"));
    }

    #[tokio::test]
    async fn host_mode_starts_reports_free_lines_refuses_a_bad_licence_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::new(dir.path().join("host"));
        assert!(!host.status().await.unwrap().running);
        assert!(matches!(
            host.start("office:8443").await,
            Err(HostError::BadBind(_))
        ));

        let status = host.start("127.0.0.1:0").await.unwrap();
        assert!(status.running);
        assert_eq!((status.lines_in_use, status.lines_licensed), (0, 5));
        assert!(status.lan_urls.is_empty(), "loopback is not for colleagues");
        assert_eq!(status.tls_fingerprint, None, "plain HTTP on loopback");
        let summary = status.licence_summary.unwrap();
        assert!(summary.starts_with("Free tier"), "{summary}");
        assert!(
            status
                .admin_setup_url
                .unwrap()
                .contains("/admin/setup?token=")
        );
        let admin = host.admin_page().unwrap();
        assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");

        let refused = host
            .install_licence(b"{\"not\": \"a licence\"}".to_vec())
            .await;
        let Err(HostError::LicenceRefused(reason)) = refused else {
            panic!("a bad file is refused: {refused:?}");
        };
        assert!(!reason.is_empty());
        assert_eq!(host.status().await.unwrap().lines_licensed, 5);

        host.stop().await.unwrap();
        assert!(!host.status().await.unwrap().running);
        assert!(matches!(host.admin_page(), Err(HostError::NotRunning)));
    }

    #[tokio::test]
    async fn the_status_carries_the_fingerprint_of_the_certificate_the_server_presents() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("host");
        // HTTPS is automatic off loopback; tests stay on loopback and ask for it.
        std::fs::create_dir_all(&data_dir).unwrap();
        std::fs::write(data_dir.join("confab.toml"), "tls = \"on\"\n").unwrap();
        let mut host = Host::new(data_dir);

        let status = host.start("127.0.0.1:0").await.unwrap();
        let fingerprint = status
            .tls_fingerprint
            .expect("an HTTPS host has a fingerprint");
        assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
        assert!(status.admin_url.unwrap().starts_with("https://127.0.0.1:"));
        let bound = status.bound.unwrap();

        // A client that trusts only that fingerprint completes the handshake;
        // one pinning any other certificate is refused.
        let tcp = tokio::net::TcpStream::connect(&bound).await.unwrap();
        confab_client::connect_pinned(tcp, "localhost", &fingerprint)
            .await
            .expect("the served certificate has the fingerprint the panel shows");
        let other = confab_proto::tls_fingerprint(b"another certificate");
        let tcp = tokio::net::TcpStream::connect(&bound).await.unwrap();
        assert!(
            confab_client::connect_pinned(tcp, "localhost", &other)
                .await
                .is_err()
        );

        // It stays the same across a restart: colleagues compare it once.
        host.stop().await.unwrap();
        let again = host.start("127.0.0.1:0").await.unwrap();
        assert_eq!(again.tls_fingerprint.as_deref(), Some(fingerprint.as_str()));
        host.stop().await.unwrap();
        assert_eq!(host.status().await.unwrap().tls_fingerprint, None);
    }

    #[tokio::test]
    async fn a_port_in_use_is_reported_with_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::new(dir.path().to_owned());
        let bind = taken.local_addr().unwrap().to_string();
        let err = host.start(&bind).await.unwrap_err().to_string();
        assert!(
            err.contains(&bind) && err.contains("another program"),
            "{err}"
        );
    }
}
