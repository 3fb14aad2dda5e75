//! The purge job: accounts deleted longer ago than the retention window
//! ([`crate::domain::RETENTION`], 30 days) are erased for good, one user per
//! transaction, each with a `USER_PURGED` outbox event (payload `user_id`)
//! and a PURGE audit entry (without the id) in the same transaction. The
//! relay then delivers the event to billing, content and progress
//! ([`crate::events`]), which erase their rows about the user.
//!
//! Spawned by [`crate::build_with_options`]: once at start, then every
//! `purge_interval` (one hour; `PURGE_INTERVAL_MS`). Tests call
//! [`purge_expired`] directly.

use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::{self, events};
use jazz_platform::{DbPool, Principal};
use uuid::Uuid;

use crate::domain::{REPLAY_PREFIX, RETENTION};
use crate::error::IdentityError;
use crate::store::purge;

/// Erases every user deleted longer ago than the retention window; returns
/// their ids.
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> Result<Vec<Uuid>, IdentityError> {
    let cutoff = Utc::now() - RETENTION;
    let job = Principal::service("identity-purge");
    let mut purged = Vec::new();
    loop {
        let next = conn
            .transaction(async |conn| {
                let Some((id, email)) = purge::next_expired(conn, cutoff).await? else {
                    return Ok::<_, IdentityError>(None);
                };
                let cleared = purge::erase(conn, id, &email, REPLAY_PREFIX).await?;
                let user_id = to_api(id);
                let event =
                    outbox::enqueue(conn, events::USER_PURGED, &user_id, serde_json::json!({ "user_id": user_id }))
                        .await?;
                let mut entry = AuditEntry::new(&job, "PURGE", "users", None);
                entry.new_data =
                    Some(serde_json::json!({ "audit_entries_cleared": cleared, "event_id": to_api(event) }));
                entry.write(conn).await?;
                Ok(Some(id))
            })
            .await?;
        match next {
            Some(id) => purged.push(id),
            None => return Ok(purged),
        }
    }
}

/// One run on a pooled connection.
pub async fn run_once(pool: &DbPool) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    Ok(purge_expired(&mut conn).await?.len())
}

/// Runs the purge now and then every `interval`, for the life of the
/// process. A failed run is logged and retried at the next tick.
pub fn spawn(pool: DbPool, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&pool).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged deleted accounts past the retention window"),
                Err(error) => tracing::warn!(%error, "purge of deleted accounts failed"),
            }
        }
    })
}
