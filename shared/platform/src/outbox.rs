//! The transactional outbox: events other services must see, written in the
//! same transaction as the change that causes them. Delivery (a relay that
//! claims rows with `FOR UPDATE SKIP LOCKED` and calls the receiver over
//! gRPC, at least once) and the receiving side's inbox live here too, so
//! every service uses one implementation.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{outbox_events, processed_events};

/// Names of the events services exchange.
pub mod events {
    /// A user signed up (identity → billing).
    pub const USER_CREATED: &str = "identity.user_created";
    /// A user deleted their account (soft; identity → all, which hide the
    /// user's public rows until the purge).
    pub const USER_DELETED: &str = "identity.user_deleted";
    /// A deleted user came back within the retention window (identity → all).
    pub const USER_UNDELETED: &str = "identity.user_undeleted";
    /// A user's account was purged after the retention window (identity → all).
    pub const USER_PURGED: &str = "identity.user_purged";
    /// A content item was deleted (content → progress).
    pub const CONTENT_DELETED: &str = "content.content_deleted";
    /// A subscription's tier or status changed (billing → identity).
    pub const SUBSCRIPTION_CHANGED: &str = "billing.subscription_changed";
}

#[derive(Insertable)]
#[diesel(table_name = outbox_events)]
struct NewEvent<'a> {
    id: Uuid,
    event_type: &'a str,
    aggregate_id: &'a str,
    payload: serde_json::Value,
}

/// Writes an event on `conn` (inside the change's transaction); returns its
/// id, which receivers use to apply it exactly once.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    aggregate_id: &str,
    payload: serde_json::Value,
) -> QueryResult<Uuid> {
    let id = crate::ids::new_id();
    diesel::insert_into(outbox_events::table)
        .values(NewEvent { id, event_type, aggregate_id, payload })
        .execute(conn)
        .await?;
    Ok(id)
}

/// Receiving side: whether `event_id` was applied before (a read outside
/// the effect's transaction, to skip slow work such as an outside call; the
/// [`mark_processed`] in the transaction is what decides).
pub async fn was_processed(conn: &mut AsyncPgConnection, event_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(processed_events::table.filter(processed_events::event_id.eq(event_id))))
        .get_result(conn)
        .await
}

/// Receiving side: records `event_id` as applied. Returns `false` when it
/// already was — the caller then skips the effect. Call it inside the same
/// transaction as the effect, so a replay changes nothing.
pub async fn mark_processed(conn: &mut AsyncPgConnection, event_id: Uuid, event_type: &str) -> QueryResult<bool> {
    let inserted = diesel::insert_into(processed_events::table)
        .values((processed_events::event_id.eq(event_id), processed_events::event_type.eq(event_type)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}
