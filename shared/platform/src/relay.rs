//! The outbox relay: delivers each event written by [`crate::outbox::enqueue`]
//! to the services that must see it, at least once.
//!
//! A round claims a batch with one statement (`FOR UPDATE SKIP LOCKED`
//! inside an `UPDATE … RETURNING`) that moves each claimed event's
//! `next_attempt_at` a [`LEASE`] ahead and commits at once; then it
//! delivers, and records each outcome in its own statement. No transaction
//! spans a network call, several replicas never deliver an event at the
//! same time, and the lease is the visible deadline after which an event a
//! crashed relay had claimed is delivered again.
//!
//! A failed delivery is retried with exponential backoff (1 s, 2 s, 4 s, …,
//! at most [`MAX_BACKOFF`]) and never given up: what an event asks for (a
//! purge, a subscription) must happen once its receiver is back. Only an
//! event a receiver rejects as invalid ([`Undelivered::Rejected`]) is marked
//! `dead` for an operator. Receivers apply each event id once (the inbox,
//! [`crate::outbox::mark_processed`]), so a redelivery changes nothing.
//!
//! Each round reports through the `metrics` facade, labelled `service`:
//! the gauges `outbox_backlog` (pending events), `outbox_oldest_age_seconds`
//! (age of the oldest pending one, 0 when none) and `outbox_dead`, and the
//! counter `relay_deliveries_total` with `outcome` = `delivered`, `retry` or
//! `dead`. Operators list and re-drive dead and lagging events with
//! [`crate::outbox_admin`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::RunQueryDsl;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::config::ServiceName;
use crate::db::DbPool;
use crate::schema::outbox_events;

/// Events claimed per round.
const BATCH: i64 = 50;
/// How long a claimed event is left to its relay before another may take
/// it: enough for a batch delivered one by one within the delivery budget.
pub const LEASE: Duration = Duration::from_secs(300);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// One event as the relay hands it to a [`Deliver`] implementation.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox_events)]
pub struct OutboxEvent {
    /// The event id (receivers' idempotency key).
    pub id: Uuid,
    /// The event name, e.g. `identity.user_created`.
    pub event_type: String,
    /// The id of the row it is about.
    pub aggregate_id: String,
    /// Its body.
    pub payload: serde_json::Value,
    /// Attempts so far.
    pub attempts: i32,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The body's schema version: receivers get it as `schema_version`.
    pub schema_version: i32,
    /// The traceparent of the span that wrote it; the delivery's parent.
    pub trace_context: Option<String>,
}

/// Why an event was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undelivered {
    /// A receiver could not take it now (down, overloaded, an older
    /// release): tried again later, for as long as it takes.
    Retry(String),
    /// A receiver refused it as invalid: retrying cannot help, so the event
    /// is marked `dead` for an operator.
    Rejected(String),
}

impl From<String> for Undelivered {
    fn from(reason: String) -> Self {
        Self::Retry(reason)
    }
}

impl From<&str> for Undelivered {
    fn from(reason: &str) -> Self {
        Self::Retry(reason.to_owned())
    }
}

impl Undelivered {
    /// The outcome of a receiver's answer `status` to `call`: INVALID_ARGUMENT
    /// is a rejection, anything else is retried.
    pub fn from_status(call: &str, status: &tonic::Status) -> Self {
        let reason = crate::peer::describe(call, status);
        if status.code() == tonic::Code::InvalidArgument { Self::Rejected(reason) } else { Self::Retry(reason) }
    }

    /// What went wrong, as one line.
    pub fn reason(&self) -> &str {
        match self {
            Self::Retry(reason) | Self::Rejected(reason) => reason,
        }
    }
}

/// Where a service's events go: one implementation per producing service.
#[tonic::async_trait]
pub trait Deliver: Send + Sync + 'static {
    /// Delivers `event` to every receiver. Events nobody consumes return
    /// `Ok`. Reasons are short and hold no secrets.
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered>;
}

/// Claims up to a batch of due events for [`LEASE`] (committed at once).
async fn claim(pool: &DbPool) -> anyhow::Result<Vec<OutboxEvent>> {
    let mut conn = pool.get().await?;
    let lease = i64::try_from(LEASE.as_secs()).unwrap_or(300);
    let claimed = diesel::sql_query(
        "UPDATE outbox_events SET next_attempt_at = now() + make_interval(secs => $1), \
                leased_until = now() + make_interval(secs => $1) \
          WHERE id IN (SELECT id FROM outbox_events \
                        WHERE status = 'pending' AND next_attempt_at <= now() \
                        ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
          RETURNING id, event_type, aggregate_id, payload, attempts, created_at, schema_version, trace_context",
    )
    .bind::<BigInt, _>(lease)
    .bind::<BigInt, _>(BATCH)
    .load(&mut conn)
    .await?;
    Ok(claimed)
}

/// Records the outcome of one claimed event and ends its lease.
async fn settle(
    service: ServiceName,
    pool: &DbPool,
    event: &OutboxEvent,
    outcome: Result<(), Undelivered>,
) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let attempts = event.attempts + 1;
    let label = match &outcome {
        Ok(()) => "delivered",
        Err(Undelivered::Retry(_)) => "retry",
        Err(Undelivered::Rejected(_)) => "dead",
    };
    metrics::counter!("relay_deliveries_total", "service" => service.as_str(), "outcome" => label).increment(1);
    match outcome {
        Ok(()) => {
            diesel::update(outbox_events::table.find(event.id))
                .set((
                    outbox_events::status.eq("delivered"),
                    outbox_events::delivered_at.eq(diesel::dsl::now),
                    outbox_events::attempts.eq(attempts),
                    outbox_events::last_error.eq(None::<String>),
                    outbox_events::leased_until.eq(None::<DateTime<Utc>>),
                ))
                .execute(&mut conn)
                .await?;
        }
        Err(undelivered) => {
            let status = match undelivered {
                Undelivered::Retry(_) => "pending",
                Undelivered::Rejected(_) => "dead",
            };
            let reason = undelivered.reason();
            if status == "dead" {
                tracing::error!(event_id = %event.id, event_type = %event.event_type, attempts, %reason, "event rejected as invalid; marked dead");
            } else {
                tracing::warn!(event_id = %event.id, event_type = %event.event_type, attempts, %reason, "event delivery failed; will retry");
            }
            let _: usize = diesel::sql_query(
                "UPDATE outbox_events SET status = $2, attempts = $3, last_error = $4, leased_until = NULL, \
                        next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1",
            )
            .bind::<diesel::sql_types::Uuid, _>(event.id)
            .bind::<diesel::sql_types::Text, _>(status)
            .bind::<Integer, _>(attempts)
            .bind::<diesel::sql_types::Text, _>(reason.chars().take(500).collect::<String>())
            .bind::<diesel::sql_types::Double, _>(backoff(attempts).as_secs_f64())
            .execute(&mut conn)
            .await?;
        }
    }
    Ok(())
}

/// Runs one round of `service`'s relay: claims due events, delivers them,
/// records each outcome, then reports the outbox's gauges. Returns how many
/// were delivered.
pub async fn run_once(service: ServiceName, pool: &DbPool, deliver: &dyn Deliver) -> anyhow::Result<usize> {
    let mut delivered = 0;
    for event in claim(pool).await? {
        // The delivery joins the trace of the request that wrote the event.
        let span = crate::traces::delivery_span(event.id, &event.event_type, event.trace_context.as_deref());
        let outcome = deliver.deliver(&event).instrument(span).await;
        delivered += usize::from(outcome.is_ok());
        settle(service, pool, &event, outcome).await?;
    }
    report(service, pool).await?;
    Ok(delivered)
}

/// The outbox's state as the gauges show it.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct OutboxGauges {
    /// Pending events (due, leased or waiting out a backoff).
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub backlog: f64,
    /// Age of the oldest pending event in seconds; 0 when none is pending.
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub oldest_age_seconds: f64,
    /// Events a receiver rejected.
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub dead: f64,
}

/// Reads [`OutboxGauges`] (each part through its partial index).
pub async fn gauges(pool: &DbPool) -> anyhow::Result<OutboxGauges> {
    let mut conn = pool.get().await?;
    let gauges = diesel::sql_query(
        "SELECT (SELECT count(*) FROM outbox_events WHERE status = 'pending')::float8 AS backlog, \
                (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 \
                   FROM outbox_events WHERE status = 'pending') AS oldest_age_seconds, \
                (SELECT count(*) FROM outbox_events WHERE status = 'dead')::float8 AS dead",
    )
    .get_result(&mut conn)
    .await?;
    Ok(gauges)
}

/// Sets `service`'s outbox gauges from the database.
async fn report(service: ServiceName, pool: &DbPool) -> anyhow::Result<()> {
    let now = gauges(pool).await?;
    let service = service.as_str();
    metrics::gauge!("outbox_backlog", "service" => service).set(now.backlog);
    metrics::gauge!("outbox_oldest_age_seconds", "service" => service).set(now.oldest_age_seconds.max(0.0));
    metrics::gauge!("outbox_dead", "service" => service).set(now.dead);
    Ok(())
}

/// 1 s, 2 s, 4 s … doubling per attempt, at most [`MAX_BACKOFF`].
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::from_secs(2_u64.saturating_pow(exponent)).min(MAX_BACKOFF)
}

/// Starts a relay round before the next tick: a handler that has just
/// committed an event somebody waits for (a mail) wakes the relay instead
/// of leaving it to the interval. Wakes while a round runs coalesce into
/// one more round.
#[derive(Debug, Clone, Default)]
pub struct RelayWaker(Arc<tokio::sync::Notify>);

impl RelayWaker {
    /// A waker not yet tied to a relay (give it to [`spawn`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a round now. Call it after the commit, never inside the
    /// transaction: the relay would not see the uncommitted row.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs `service`'s relay every `interval`, and whenever `waker` is woken,
/// for the life of the process.
pub fn spawn(
    service: ServiceName,
    pool: DbPool,
    deliver: Arc<dyn Deliver>,
    interval: Duration,
    waker: RelayWaker,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = waker.0.notified() => {}
            }
            if let Err(error) = run_once(service, &pool, deliver.as_ref()).await {
                tracing::warn!(%error, "outbox relay round failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let seconds: Vec<u64> = [1, 2, 3, 4, 12, 40].iter().map(|a| backoff(*a).as_secs()).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 300, 300]);
    }

    #[test]
    fn only_an_invalid_argument_is_a_rejection() {
        let rejected = Undelivered::from_status("x.Y", &tonic::Status::invalid_argument("bad id"));
        assert!(matches!(rejected, Undelivered::Rejected(_)));
        for status in
            [tonic::Status::unavailable("down"), tonic::Status::unimplemented("old"), tonic::Status::internal("x")]
        {
            assert!(matches!(Undelivered::from_status("x.Y", &status), Undelivered::Retry(_)));
        }
    }
}
