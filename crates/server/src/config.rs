//! Where the server's settings come from.
//!
//! Precedence, highest first: command-line flags, then `CONFAB_*`
//! environment variables (clap reads both into the same [`Overrides`]), then
//! the TOML config file, then the embedded defaults. The config file is
//! `--config PATH` (or `CONFAB_CONFIG`) when given, otherwise
//! `<data dir>/confab.toml` when that file exists; without one the defaults
//! apply, so a first start needs no set-up at all.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ServerError;

/// TCP port for HTTP and WebSocket unless configured; media defaults to the
/// same number on UDP so an office opens one port for both.
pub const DEFAULT_PORT: u16 = 8443;

/// Name of the config file looked for in the data directory.
pub const CONFIG_FILE_NAME: &str = "confab.toml";

/// The settings the server runs with, after every source is merged.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the database and everything else the server keeps.
    pub data_dir: PathBuf,
    /// TCP address for HTTP and WebSocket. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// UDP port for media on the same IP as `listen`. Port 0 picks a free port.
    pub media_port: u16,
    /// How people reach this server (`https://office-pc:8443`), used in join
    /// links and invitations. `None`: the listening address.
    pub public_url: Option<String>,
    /// Whether the TCP port speaks HTTPS.
    pub tls: TlsMode,
    /// PEM certificate chain to serve instead of the self-signed one.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

/// When the server speaks HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// HTTPS unless the server listens on loopback only: browsers treat
    /// `http://localhost` as secure, and nobody else can reach it.
    #[default]
    Auto,
    On,
    Off,
}

impl TlsMode {
    /// Whether a server listening on `ip` speaks HTTPS.
    pub fn enabled_for(self, ip: IpAddr) -> bool {
        match self {
            Self::On => true,
            Self::Off => false,
            Self::Auto => !ip.is_loopback(),
        }
    }
}

/// Values given on the command line or in `CONFAB_*` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub media_port: Option<u16>,
    pub public_url: Option<String>,
    pub tls: Option<TlsMode>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// The TOML file's shape. Unknown keys are refused so a typo is an error,
/// not a silently ignored setting.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    media_port: Option<u16>,
    public_url: Option<String>,
    tls: Option<TlsMode>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

impl Config {
    /// Embedded defaults: loopback only (so plain HTTP, see
    /// [`TlsMode::Auto`]), data under the user's XDG data directory.
    pub fn defaults() -> Result<Self, ServerError> {
        Ok(Self {
            data_dir: default_data_dir()?,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            media_port: DEFAULT_PORT,
            public_url: None,
            tls: TlsMode::Auto,
            tls_cert: None,
            tls_key: None,
        })
    }

    /// Merges the sources in the documented order.
    pub fn load(overrides: &Overrides) -> Result<Self, ServerError> {
        let defaults = Self::defaults()?;
        let file = match &overrides.config_file {
            Some(path) => read_file_config(path)?,
            None => {
                let dir = overrides.data_dir.as_ref().unwrap_or(&defaults.data_dir);
                let implicit = dir.join(CONFIG_FILE_NAME);
                if implicit.exists() {
                    let file = read_file_config(&implicit)?;
                    if file.data_dir.is_some() {
                        return Err(ServerError::Config {
                            path: implicit,
                            reason: "`data_dir` can only be set in a file given with --config, \
                                     not in the data directory's own confab.toml"
                                .into(),
                        });
                    }
                    file
                } else {
                    FileConfig::default()
                }
            }
        };
        let listen = overrides.listen.or(file.listen).unwrap_or(defaults.listen);
        Ok(Self {
            data_dir: overrides
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(defaults.data_dir),
            listen,
            // An unset media port follows the TCP port, so `--listen x:0`
            // alone gives ephemeral ports for both.
            media_port: overrides
                .media_port
                .or(file.media_port)
                .unwrap_or(listen.port()),
            public_url: overrides
                .public_url
                .clone()
                .or(file.public_url)
                .map(|url| check_public_url(&url))
                .transpose()?,
            tls: overrides.tls.or(file.tls).unwrap_or(defaults.tls),
            tls_cert: overrides.tls_cert.clone().or(file.tls_cert),
            tls_key: overrides.tls_key.clone().or(file.tls_key),
        })
    }
}

/// An absolute http(s) URL without a path, returned without a trailing
/// slash: join links are `<public_url>/j/<code>`.
fn check_public_url(url: &str) -> Result<String, ServerError> {
    let invalid = |reason: &'static str| ServerError::PublicUrl {
        value: url.to_owned(),
        reason,
    };
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| invalid("it must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(invalid(
            "give only the scheme, host and port, like http://office-pc:8443",
        ));
    }
    Ok(trimmed.to_owned())
}

fn default_data_dir() -> Result<PathBuf, ServerError> {
    directories::ProjectDirs::from("", "", "confab")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or(ServerError::NoHomeDirectory)
}

fn read_file_config(path: &Path) -> Result<FileConfig, ServerError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServerError::Io {
        action: "read the config file",
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ServerError::Config {
        path: path.to_path_buf(),
        reason: e.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn defaults_listen_on_loopback_with_media_on_the_same_port() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        })
        .unwrap();
        assert!(config.listen.ip().is_loopback());
        assert_eq!(config.listen.port(), DEFAULT_PORT);
        assert_eq!(config.media_port, DEFAULT_PORT);
        assert_eq!(config.data_dir, dir.path());
    }

    #[test]
    fn config_file_in_the_data_dir_is_read_and_overrides_win_over_it() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            CONFIG_FILE_NAME,
            "listen = \"127.0.0.2:9000\"\nmedia_port = 9001\n",
        );
        let from_file = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(from_file.listen, "127.0.0.2:9000".parse().unwrap());
        assert_eq!(from_file.media_port, 9001);

        let overridden = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            listen: Some("127.0.0.3:7000".parse().unwrap()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(overridden.listen, "127.0.0.3:7000".parse().unwrap());
        assert_eq!(
            overridden.media_port, 9001,
            "file value kept where no override"
        );
    }

    #[test]
    fn media_port_follows_an_ephemeral_listen_port() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.media_port, 0);
    }

    #[test]
    fn unknown_config_keys_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "c.toml", "lisen = \"127.0.0.1:1\"\n");
        let err = Config::load(&Overrides {
            config_file: Some(path.clone()),
            ..Overrides::default()
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("c.toml"), "{text}");
        assert!(text.contains("lisen"), "{text}");
    }

    #[test]
    fn explicit_config_file_may_move_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("elsewhere");
        let path = write(
            dir.path(),
            "c.toml",
            &format!("data_dir = {:?}\n", data.to_str().unwrap()),
        );
        let config = Config::load(&Overrides {
            config_file: Some(path),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(config.data_dir, data);
    }

    #[test]
    fn public_url_is_taken_without_its_trailing_slash_and_must_be_a_base() {
        let dir = tempfile::tempdir().unwrap();
        let load = |url: &str| {
            Config::load(&Overrides {
                data_dir: Some(dir.path().into()),
                public_url: Some(url.into()),
                ..Overrides::default()
            })
        };
        assert_eq!(
            load("http://office-pc:8443/")
                .unwrap()
                .public_url
                .as_deref(),
            Some("http://office-pc:8443")
        );
        for bad in ["office-pc:8443", "ftp://x", "http://x/confab", "https://"] {
            let err = load(bad).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
        write(
            dir.path(),
            CONFIG_FILE_NAME,
            "public_url = \"https://meet.example\"\n",
        );
        let from_file = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(
            from_file.public_url.as_deref(),
            Some("https://meet.example")
        );
    }

    #[test]
    fn data_dir_in_the_implicit_config_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), CONFIG_FILE_NAME, "data_dir = \"/tmp/x\"\n");
        let err = Config::load(&Overrides {
            data_dir: Some(dir.path().into()),
            ..Overrides::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("data_dir"), "{err}");
    }

    #[test]
    fn tls_is_automatic_unless_set_and_auto_means_on_off_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let defaults = Config::load(&Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(defaults.tls, TlsMode::Auto);
        assert!(!TlsMode::Auto.enabled_for("127.0.0.1".parse().unwrap()));
        assert!(!TlsMode::Auto.enabled_for("::1".parse().unwrap()));
        assert!(TlsMode::Auto.enabled_for("0.0.0.0".parse().unwrap()));
        assert!(TlsMode::Auto.enabled_for("192.168.1.20".parse().unwrap()));
        assert!(TlsMode::On.enabled_for("127.0.0.1".parse().unwrap()));
        assert!(!TlsMode::Off.enabled_for("192.168.1.20".parse().unwrap()));

        let file = dir.path().join("tls.toml");
        std::fs::write(
            &file,
            "tls = \"on\"\ntls_cert = \"/etc/confab/cert.pem\"\ntls_key = \"/etc/confab/key.pem\"\n",
        )
        .unwrap();
        let from_file = Config::load(&Overrides {
            config_file: Some(file.clone()),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(from_file.tls, TlsMode::On);
        assert_eq!(
            from_file.tls_key,
            Some(PathBuf::from("/etc/confab/key.pem"))
        );
        let overridden = Config::load(&Overrides {
            config_file: Some(file),
            tls: Some(TlsMode::Off),
            ..Overrides::default()
        })
        .unwrap();
        assert_eq!(overridden.tls, TlsMode::Off);
    }
}
