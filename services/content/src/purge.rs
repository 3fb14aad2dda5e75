//! The purge of soft-deleted items: an item deleted longer ago than the
//! retention window ([`RETENTION_DAYS`], 30 days — the `purge_time` the API
//! shows) is deleted for good, its likes and saves with it, in batches of
//! [`BATCH`] per transaction; each batch writes, in the same transaction,
//! one hard `content_deleted` event per item (`{"content_id", "hard":
//! true}`, no user id: the event outlives the item) for progress's
//! `HandleContentDeleted`, and one PURGE audit entry.
//!
//! Spawned by [`crate::build`] on the platform's retention interval
//! (`RETENTION_INTERVAL_MS`, an hour; also once at start). Tests call
//! [`purge_expired`] directly.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::{self, events};
use jazz_platform::{DbPool, Principal};
use uuid::Uuid;

use crate::error::ContentError;
use crate::store::content::{self, RETENTION_DAYS};

/// Items purged per transaction.
pub const BATCH: i64 = 100;

/// Purges every item deleted before `cutoff`; returns their ids.
pub async fn purge_deleted_before(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Uuid>, ContentError> {
    let job = Principal::service("content-purge");
    let mut purged = Vec::new();
    loop {
        let batch = conn
            .transaction(async |conn| {
                let ids = content::deleted_before(conn, cutoff, BATCH).await?;
                if ids.is_empty() {
                    return Ok::<_, ContentError>(ids);
                }
                content::purge_items(conn, &ids).await?;
                let api_ids: Vec<String> = ids.iter().map(|id| to_api(*id)).collect();
                for id in &api_ids {
                    let payload = serde_json::json!({ "content_id": id, "hard": true });
                    outbox::enqueue(conn, events::CONTENT_DELETED, id, payload).await?;
                }
                AuditEntry::new(&job, "PURGE", "generated_content", None)
                    .with_change(None, Some(serde_json::json!({ "content_ids": api_ids })))
                    .write(conn)
                    .await?;
                Ok(ids)
            })
            .await?;
        if batch.is_empty() {
            return Ok(purged);
        }
        purged.extend(batch);
    }
}

/// Purges every item deleted longer ago than the retention window.
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> Result<Vec<Uuid>, ContentError> {
    purge_deleted_before(conn, Utc::now() - chrono::Duration::days(RETENTION_DAYS)).await
}

/// Starts the purge on `pool`, every `interval`.
pub fn spawn(pool: DbPool, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
    jazz_platform::retention::every("purge of deleted items", interval, move || {
        let pool = pool.clone();
        async move {
            let mut conn = pool.get().await?;
            Ok(purge_expired(&mut conn).await?.len())
        }
    })
}
