//! The daily metrics job: for one UTC day, asks every owner for its figures
//! (identity, billing and content through `GetDailyFigures`; progress
//! counts its own practice), then replaces that day's points in
//! `system_metrics` in one transaction with its audit entry. Nothing is
//! written unless every owner answered, so a day is never half recorded.
//! [`spawn`] runs it by itself for the day before, once that day has no
//! points yet; `MetricsAdminService.RecordDailyMetrics` runs it on demand.

use std::time::Duration;

use diesel_async::AsyncConnection as _;
use jazz_platform::audit::AuditEntry;
use jazz_platform::daily::UtcDay;
use jazz_platform::{DbPool, Principal};
use serde_json::json;

use crate::domain::metrics::{self, NewPoint};
use crate::error::ProgressError;
use crate::peers::{Owner, Peers};
use crate::store::metrics as store;

/// How often the background run checks whether yesterday is recorded.
const CHECK_INTERVAL: Duration = Duration::from_secs(3600);
/// Wait before the first check, so a starting suite's peers are up.
const FIRST_CHECK: Duration = Duration::from_secs(60);

/// The job over progress's pool and its peers.
#[derive(Clone)]
pub struct MetricsJob {
    pool: DbPool,
    peers: Peers,
}

impl MetricsJob {
    /// The job over `pool`, asking `peers`.
    pub fn new(pool: DbPool, peers: Peers) -> Self {
        Self { pool, peers }
    }

    /// Records `day`, audited as done by `principal`; returns the points
    /// stored (they replaced any earlier run's).
    pub async fn record(&self, principal: &Principal, day: UtcDay) -> Result<Vec<NewPoint>, ProgressError> {
        let (identity, billing, content) = tokio::join!(
            self.peers.daily_figures(Owner::Identity, &day),
            self.peers.daily_figures(Owner::Billing, &day),
            self.peers.daily_figures(Owner::Content, &day),
        );
        let mut figures = identity?;
        figures.extend(billing?);
        figures.extend(content?);
        let mut conn = self.pool.get().await?;
        figures.extend(metrics::practice_figures(store::practice_between(&mut conn, day.start, day.end).await?));
        let (points, refused) = metrics::points(figures);
        for figure in &refused {
            tracing::error!(name = figure.name, value = figure.value, "malformed or repeated daily figure left out");
        }
        let stored = points.clone();
        conn.transaction(async |conn| {
            store::replace_at(conn, day.start, &points).await?;
            AuditEntry::new(principal, "METRICS_RECORD", "system_metrics", Some(day.to_api()))
                .with_change(None, Some(json!({ "points": points.len() })))
                .write(conn)
                .await?;
            Ok::<_, ProgressError>(())
        })
        .await?;
        Ok(stored)
    }

    /// Records yesterday (UTC) unless it already has points.
    async fn record_yesterday_if_missing(&self) -> Result<Option<usize>, ProgressError> {
        let day = UtcDay::yesterday();
        if store::recorded(&mut *self.pool.get().await?, day.start).await? {
            return Ok(None);
        }
        Ok(Some(self.record(&Principal::service("progress"), day).await?.len()))
    }
}

/// Runs the job in the background for the life of the process: a first
/// check a minute after start, then hourly; each check records yesterday
/// when it has no points. Replicas may overlap: a day re-run replaces.
pub fn spawn(job: MetricsJob) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_CHECK).await;
        loop {
            match job.record_yesterday_if_missing().await {
                Ok(None) => {}
                Ok(Some(points)) => tracing::info!(points, "recorded yesterday's metrics"),
                Err(error) => tracing::warn!(%error, "could not record yesterday's metrics; will retry"),
            }
            tokio::time::sleep(CHECK_INTERVAL).await;
        }
    })
}
