//! Tasks that run beside the HTTP server: the usage sampler and the
//! licence watcher.

use std::sync::Arc;
use std::time::Duration;

use confab_license::Timestamp;

use crate::licence;
use crate::storage::Storage;
use crate::usage::{self, MinuteSample};
use crate::ws::Signalling;

/// Writes one usage row per minute for as long as the server runs.
pub(crate) async fn sample_usage(storage: Storage, signalling: Arc<Signalling>) {
    loop {
        let now = Timestamp::now().as_second();
        let next_minute = (now / 60 + 1) * 60;
        tokio::time::sleep(Duration::from_secs((next_minute - now) as u64)).await;
        record_usage(&storage, &signalling).await;
    }
}

/// Records the minute that is running now; also called at shutdown so the
/// last partial minute is not lost.
pub(crate) async fn record_usage(storage: &Storage, signalling: &Signalling) {
    let (peak, refused, licensed) = {
        let mut hub = signalling.hub();
        let (peak, refused) = hub.take_usage_sample();
        (peak, refused, hub.line_limit())
    };
    let sample = MinuteSample {
        minute: Timestamp::now().as_second() / 60,
        peak,
        licensed,
        refused,
    };
    if let Err(e) = usage::record(storage, sample).await {
        tracing::error!(error = %e, "could not record usage");
    }
}

/// Re-evaluates the stored licence every minute, so an expiry (or a
/// licence that starts later) changes the line limit without a restart.
pub(crate) async fn watch_licence(storage: Storage, signalling: Arc<Signalling>) {
    let mut last = signalling.hub().line_limit();
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let status = {
            let storage = storage.clone();
            tokio::task::spawn_blocking(move || licence::current_status(&storage, Timestamp::now()))
                .await
                .expect("licence task panicked")
        };
        match status {
            Ok(status) if status.seat_limit() != last => {
                tracing::warn!("licence changed: {status}");
                last = status.seat_limit();
                signalling.hub().set_line_limit(last);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not read the licence"),
        }
    }
}
