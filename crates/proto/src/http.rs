//! Plain HTTP documents: health and the ready file scripts wait for.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

/// SHA-256 of a DER certificate as `AB:CD:…`: the form of
/// [`ReadyFile::tls_fingerprint`], what the server prints, browsers show and
/// clients pin.
pub fn tls_fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Whether the server can do its job. `Degraded` still answers HTTP but
/// something it depends on (say the database) is failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

/// Answer of `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Health {
    pub status: HealthStatus,
    /// The server's version, from its Cargo package.
    pub version: String,
    /// Signalling protocol version the server speaks on `/ws`.
    pub protocol: u32,
    /// Seconds since the server started.
    #[ts(type = "number")]
    pub uptime_seconds: u64,
    /// `true` when the embedded database answered a query just now.
    pub database_ok: bool,
}

/// What `confab-server --ready-file PATH` writes once it accepts connections.
///
/// Scripts and tests read it instead of parsing logs, so its shape is part
/// of the contract: `{"http": "<base URL>", "media_udp": <port>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReadyFile {
    /// Base URL of the HTTP(S) and WebSocket listener, without a trailing slash.
    pub http: String,
    /// UDP port that carries media for every peer.
    pub media_udp: u16,
    /// SHA-256 of the served certificate (`AB:CD:…`) when `http` is
    /// `https://`; clients that see a self-signed certificate pin it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tls_fingerprint: Option<String>,
}

/// What the server embeds in the browser guest page at `/j/<code>` (a JSON
/// `<script id="confab-meeting" type="application/json">`), so the page
/// shows the meeting before it opens a signalling connection and without a
/// second request. Visiting the page never takes a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GuestMeeting {
    /// The canonical code, as `join` expects it.
    pub code: String,
    pub title: String,
    /// Whether `join` needs a passcode (the passcode itself is never sent).
    pub passcode_required: bool,
    /// Whether people wait in a lobby until a host admits them.
    pub lobby: bool,
    /// When the meeting cannot be joined now, the sentence saying why
    /// ("This meeting opens at Today 08:45, …"); `null` when it is open.
    pub not_open: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_file_has_the_documented_shape() {
        let ready = ReadyFile {
            http: "http://127.0.0.1:8443".into(),
            media_udp: 8443,
            tls_fingerprint: None,
        };
        let json = serde_json::to_value(&ready).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"http": "http://127.0.0.1:8443", "media_udp": 8443})
        );
    }

    #[test]
    fn health_status_is_snake_case_on_the_wire() {
        assert_eq!(serde_json::to_string(&HealthStatus::Ok).unwrap(), "\"ok\"");
        assert_eq!(
            serde_json::to_string(&HealthStatus::Degraded).unwrap(),
            "\"degraded\""
        );
    }
}
