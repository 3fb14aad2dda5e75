//! Retention of the platform tables, run by every data service as a
//! periodic job ([`spawn`]): delivered outbox events are deleted after
//! `OUTBOX_RETENTION_HOURS` (default 168, a week: long enough to look into
//! a delivery, and a purged user's id does not linger), and `request_id`
//! replay rows (`idempotency_keys`, Stripe key reservations included)
//! after `REPLAY_RETENTION_HOURS` (default 24: a client retries within
//! minutes, and Stripe keeps its own idempotency keys 24 hours). Pending
//! and dead events are never pruned. Deletes go in batches of
//! [`BATCH`] rows through the `delivered_at` and `created_at` indexes, so
//! no statement holds many row locks for long.
//!
//! [`every`] is the loop itself, also used by services' own retention
//! (content's purge of soft-deleted items).

use std::future::Future;
use std::time::Duration;

use diesel::sql_types::{BigInt, Double};
use diesel_async::RunQueryDsl;

use crate::config::{ConfigError, env_parse};
use crate::db::DbPool;

/// Rows deleted per statement.
pub const BATCH: i64 = 1000;

/// The windows and the interval of the platform's retention job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Delivered outbox events older than this (by `delivered_at`) go.
    pub delivered_events: Duration,
    /// Replay rows older than this (by `created_at`) go.
    pub replays: Duration,
    /// How often the job runs (it also runs once at start).
    pub interval: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            delivered_events: Duration::from_secs(168 * 3600),
            replays: Duration::from_secs(24 * 3600),
            interval: Duration::from_secs(3600),
        }
    }
}

impl Retention {
    /// `OUTBOX_RETENTION_HOURS` (168), `REPLAY_RETENTION_HOURS` (24),
    /// `RETENTION_INTERVAL_MS` (3 600 000).
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let hours = |name, default: Duration| {
            env_parse(name, default.as_secs() / 3600).map(|h: u64| Duration::from_secs(h.saturating_mul(3600)))
        };
        Ok(Self {
            delivered_events: hours("OUTBOX_RETENTION_HOURS", defaults.delivered_events)?,
            replays: hours("REPLAY_RETENTION_HOURS", defaults.replays)?,
            interval: Duration::from_millis(env_parse("RETENTION_INTERVAL_MS", 3_600_000)?),
        })
    }
}

/// What one run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Delivered outbox events.
    pub delivered_events: usize,
    /// Replay rows.
    pub replays: usize,
}

/// Deletes, batch by batch, what `sql` selects (its `$1` is the window in
/// seconds, `$2` the batch); returns how many rows went.
async fn delete_in_batches(pool: &DbPool, sql: &str, window: Duration) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let mut conn = pool.get().await?;
        let deleted = diesel::sql_query(sql)
            .bind::<Double, _>(window.as_secs_f64())
            .bind::<BigInt, _>(BATCH)
            .execute(&mut conn)
            .await?;
        total += deleted;
        if i64::try_from(deleted).unwrap_or(i64::MAX) < BATCH {
            return Ok(total);
        }
    }
}

/// One run of the platform's retention on `pool`.
pub async fn prune(pool: &DbPool, retention: &Retention) -> anyhow::Result<Pruned> {
    let delivered_events = delete_in_batches(
        pool,
        "DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events \
          WHERE status = 'delivered' AND delivered_at < now() - make_interval(secs => $1) \
          ORDER BY delivered_at LIMIT $2)",
        retention.delivered_events,
    )
    .await?;
    let replays = delete_in_batches(
        pool,
        "DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys \
          WHERE created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2)",
        retention.replays,
    )
    .await?;
    Ok(Pruned { delivered_events, replays })
}

/// Runs `job` now and then every `interval`, for the life of the process;
/// `name` says what it does in the log. A failed run is logged and tried
/// again at the next tick.
pub fn every<F, Fut>(name: &'static str, interval: Duration, job: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<usize>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match job().await {
                Ok(0) => {}
                Ok(rows) => tracing::info!(job = name, rows, "retention removed rows past their window"),
                Err(error) => tracing::warn!(job = name, %error, "retention job failed"),
            }
        }
    })
}

/// Starts the platform's retention job on `pool`.
pub fn spawn(pool: DbPool, retention: Retention) -> tokio::task::JoinHandle<()> {
    every("outbox and replay retention", retention.interval, move || {
        let pool = pool.clone();
        async move { prune(&pool, &retention).await.map(|p| p.delivered_events + p.replays) }
    })
}
