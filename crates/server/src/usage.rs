//! Usage history: per-minute peaks of lines in use, persisted, and the
//! queries behind the admin console's chart and daily peaks.

use confab_proto::{UsageDay, UsageHistory, UsagePoint};
use rusqlite::params;

use crate::error::ServerError;
use crate::storage::Storage;

/// One minute's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteSample {
    /// Unix seconds / 60.
    pub minute: i64,
    pub peak: u32,
    pub licensed: u32,
    pub refused: u32,
}

/// Records a minute, merging with a row already written for it (a restart
/// within the minute keeps the higher peak and adds the refusals).
pub async fn record(storage: &Storage, s: MinuteSample) -> Result<(), ServerError> {
    storage
        .call(move |c| {
            c.execute(
                "INSERT INTO usage_minutes (minute, peak, licensed, refused) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(minute) DO UPDATE SET peak = max(peak, excluded.peak),
                     licensed = excluded.licensed, refused = refused + excluded.refused",
                params![s.minute, s.peak, s.licensed, s.refused],
            )
            .map(drop)
        })
        .await
}

/// History from `since_minute` on, in buckets of `bucket_minutes`.
pub async fn history(
    storage: &Storage,
    since_minute: i64,
    bucket_minutes: u32,
) -> Result<UsageHistory, ServerError> {
    let bucket = i64::from(bucket_minutes.max(1));
    storage
        .call(move |c| {
            let mut points = Vec::new();
            let mut stmt = c.prepare(
                "SELECT (minute / ?2) * ?2, max(peak),
                        (SELECT licensed FROM usage_minutes i
                          WHERE i.minute / ?2 = o.minute / ?2 ORDER BY minute DESC LIMIT 1),
                        sum(refused)
                   FROM usage_minutes o WHERE minute >= ?1
                  GROUP BY minute / ?2 ORDER BY 1",
            )?;
            let rows = stmt.query_map(params![since_minute, bucket], |r| {
                Ok(UsagePoint {
                    at_ms: r.get::<_, i64>(0)? as u64 * 60_000,
                    peak: r.get(1)?,
                    licensed: r.get(2)?,
                    refused: r.get(3)?,
                })
            })?;
            for row in rows {
                points.push(row?);
            }
            let mut days = Vec::new();
            let mut stmt = c.prepare(
                "SELECT date(minute * 60, 'unixepoch'), max(peak), max(licensed), sum(refused)
                   FROM usage_minutes WHERE minute >= ?1
                  GROUP BY 1 ORDER BY 1",
            )?;
            let rows = stmt.query_map(params![since_minute], |r| {
                Ok(UsageDay {
                    day: r.get(0)?,
                    peak: r.get(1)?,
                    licensed: r.get(2)?,
                    refused: r.get(3)?,
                })
            })?;
            for row in rows {
                days.push(row?);
            }
            Ok(UsageHistory {
                bucket_minutes: bucket as u32,
                points,
                days,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(minute: i64, peak: u32, refused: u32) -> MinuteSample {
        MinuteSample {
            minute,
            peak,
            licensed: 10,
            refused,
        }
    }

    #[tokio::test]
    async fn daily_peaks_and_refusals_are_summed_per_utc_day_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let day0 = 29_000_000 / 1440 * 1440; // a UTC midnight, in minutes
        {
            let storage = Storage::open(dir.path()).unwrap();
            record(&storage, sample(day0 + 600, 4, 0)).await.unwrap();
            record(&storage, sample(day0 + 601, 9, 2)).await.unwrap();
            record(&storage, sample(day0 + 1440 + 10, 3, 1))
                .await
                .unwrap();
            // A restart within the same minute keeps the higher peak.
            record(&storage, sample(day0 + 601, 7, 1)).await.unwrap();
        }
        let storage = Storage::open(dir.path()).unwrap();
        let h = history(&storage, day0, 15).await.unwrap();
        assert_eq!(h.days.len(), 2);
        assert_eq!((h.days[0].peak, h.days[0].refused), (9, 3));
        assert_eq!((h.days[1].peak, h.days[1].refused), (3, 1));
        assert_eq!(
            h.points.len(),
            2,
            "minutes 600 and 601 share a 15-minute bucket"
        );
        assert_eq!(h.points[0].peak, 9);
        assert_eq!(h.points[0].at_ms, (day0 + 600) as u64 * 60_000);
    }
}
