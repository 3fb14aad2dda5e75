//! The outbox relay: delivers each event written by [`crate::outbox::enqueue`]
//! to the services that must see it, at least once.
//!
//! Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several replicas (or
//! two relays by accident) never deliver the same event at the same time.
//! A failed delivery is retried with exponential backoff (1 s, 2 s, 4 s, …,
//! at most an hour); after [`MAX_ATTEMPTS`] it is marked `dead` for an
//! operator to look at. Receivers apply each event id once (the inbox,
//! [`crate::outbox::mark_processed`]), so a redelivery changes nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use uuid::Uuid;

use crate::db::DbPool;
use crate::schema::outbox_events;

/// Attempts before an event is given up as `dead`.
pub const MAX_ATTEMPTS: i32 = 12;
/// Events claimed per round.
const BATCH: i64 = 50;

/// One event as the relay hands it to a [`Deliver`] implementation.
#[derive(Debug, Clone, Queryable, Selectable)]
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
}

/// Where a service's events go: one implementation per producing service.
#[tonic::async_trait]
pub trait Deliver: Send + Sync + 'static {
    /// Delivers `event` to every receiver; `Err` (with a short reason, no
    /// secrets) to retry later. Events nobody consumes return `Ok`.
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), String>;
}

/// Runs one round: claims due events, delivers them, records the outcome.
/// Returns how many were delivered.
pub async fn run_once(pool: &DbPool, deliver: &dyn Deliver) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let delivered = conn
        .transaction(async |conn| {
            let due: Vec<OutboxEvent> = outbox_events::table
                .filter(outbox_events::status.eq("pending"))
                .filter(outbox_events::next_attempt_at.le(diesel::dsl::now))
                .order(outbox_events::next_attempt_at.asc())
                .limit(BATCH)
                .for_update()
                .skip_locked()
                .select(OutboxEvent::as_select())
                .load(conn)
                .await?;
            let mut delivered = 0;
            for event in due {
                match deliver.deliver(&event).await {
                    Ok(()) => {
                        diesel::update(outbox_events::table.find(event.id))
                            .set((
                                outbox_events::status.eq("delivered"),
                                outbox_events::delivered_at.eq(diesel::dsl::now),
                                outbox_events::attempts.eq(event.attempts + 1),
                                outbox_events::last_error.eq(None::<String>),
                            ))
                            .execute(conn)
                            .await?;
                        delivered += 1;
                    }
                    Err(reason) => {
                        let attempts = event.attempts + 1;
                        let status = if attempts >= MAX_ATTEMPTS { "dead" } else { "pending" };
                        let backoff = backoff(attempts);
                        tracing::warn!(event_id = %event.id, event_type = %event.event_type, attempts, %reason, "event delivery failed");
                        diesel::update(outbox_events::table.find(event.id))
                            .set((
                                outbox_events::status.eq(status),
                                outbox_events::attempts.eq(attempts),
                                outbox_events::next_attempt_at.eq(Utc::now() + backoff),
                                outbox_events::last_error.eq(Some(reason.chars().take(500).collect::<String>())),
                            ))
                            .execute(conn)
                            .await?;
                    }
                }
            }
            Ok::<_, diesel::result::Error>(delivered)
        })
        .await?;
    Ok(delivered)
}

/// 1 s, 2 s, 4 s … doubling per attempt, at most an hour.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 13) - 1).unwrap_or(0);
    chrono::Duration::seconds(2_i64.pow(exponent).min(3600))
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

/// Runs the relay every `interval`, and whenever `waker` is woken, for the
/// life of the process.
pub fn spawn(
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
            if let Err(error) = run_once(&pool, deliver.as_ref()).await {
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
        let seconds: Vec<i64> = [1, 2, 3, 4, 12, 40].iter().map(|a| backoff(*a).num_seconds()).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 2048, 3600]);
    }
}
