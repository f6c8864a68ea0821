//! Prometheus metrics at `/metrics`: lines licensed and in use, live
//! meetings, connections by client kind, refused joins, signalling errors.
//!
//! Gauges are read from the hub when scraped, so they never drift from the
//! seat pool, the single source of truth for lines in use.

use std::sync::atomic::AtomicU64;

use confab_proto::signal::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::hub::Hub;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

/// The server's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    lines_licensed: Gauge,
    lines_in_use: Gauge,
    meetings_live: Gauge,
    connections: Family<KindLabel, Gauge>,
    joins_refused: Counter<u64, AtomicU64>,
    signalling_errors: Family<CodeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("confab");
        let lines_licensed = Gauge::default();
        let lines_in_use = Gauge::default();
        let meetings_live = Gauge::default();
        let connections = Family::<KindLabel, Gauge>::default();
        let joins_refused = Counter::default();
        let signalling_errors = Family::<CodeLabel, Counter>::default();
        registry.register(
            "lines_licensed",
            "Concurrent lines the licence allows",
            lines_licensed.clone(),
        );
        registry.register(
            "lines_in_use",
            "Connections admitted into live meetings",
            lines_in_use.clone(),
        );
        registry.register(
            "meetings_live",
            "Meetings with someone in them or in their lobby",
            meetings_live.clone(),
        );
        registry.register(
            "connections",
            "Admitted connections by client kind",
            connections.clone(),
        );
        registry.register(
            "joins_refused",
            "Joins refused because every line was in use",
            joins_refused.clone(),
        );
        registry.register(
            "signalling_errors",
            "Error messages sent on signalling, by code",
            signalling_errors.clone(),
        );
        Self {
            registry,
            lines_licensed,
            lines_in_use,
            meetings_live,
            connections,
            joins_refused,
            signalling_errors,
        }
    }
}

impl Metrics {
    /// Counts an error message sent to a client.
    pub fn signalling_error(&self, code: ErrorCode) {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.signalling_errors
            .get_or_create(&CodeLabel { code })
            .inc();
    }

    /// The text exposition, with gauges read from `hub` now.
    pub fn render(&self, hub: &Hub) -> String {
        self.lines_licensed.set(i64::from(hub.line_limit()));
        self.lines_in_use.set(i64::from(hub.lines_in_use()));
        self.meetings_live.set(hub.live_meetings() as i64);
        for (kind, n) in hub.lines_by_kind() {
            self.connections
                .get_or_create(&KindLabel { kind: kind.into() })
                .set(i64::from(n));
        }
        let refused = hub.refused_joins();
        let counted = self.joins_refused.get();
        if refused > counted {
            self.joins_refused.inc_by(refused - counted);
        }
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
