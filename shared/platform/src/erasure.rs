//! The platform tables' part of erasing a purged user, the same in every
//! service (RELIABILITY.md: after the purge no database holds the user's
//! id): one audit policy, the user's replay rows, and the outbox events that
//! name the user. Each service's own purge deletes its own rows and calls
//! [`forget_user`] in the same transaction, before writing its final
//! `USER_PURGE` audit entry (which names the event, never the user).
//!
//! The audit policy: an entry the user made, or whose entity is the user,
//! keeps its action, entity and time and loses the user id, the entity id,
//! the client address and user agent and its before/after data (which may
//! hold an email, notes or a caller-chosen key naming the user). Any other
//! entry whose data mention the user's id (a peer acting on the user) loses
//! its data too. The purge's own entry comes after and is kept.

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// What [`forget_user`] erased, for the purge's audit entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Audit entries anonymised.
    pub audit_entries: usize,
    /// Replay rows deleted.
    pub replays: usize,
    /// Outbox events deleted.
    pub outbox_events: usize,
}

/// Erases `user` from the platform tables: the audit policy above, replay
/// rows under each of `replay_prefixes` (see [`crate::idempotency`]), and
/// outbox events whose aggregate is the user or one of `aggregates` (say
/// the user's purged items) or whose payload names the user. Call it inside
/// the purge's transaction.
pub async fn forget_user(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    replay_prefixes: &[&str],
    aggregates: &[String],
) -> QueryResult<Forgotten> {
    let api = crate::ids::to_api(user);
    let plain = user.to_string();
    let own = diesel::sql_query(
        "UPDATE audit_logs SET user_id = NULL, entity_id = NULL, ip_address = NULL, user_agent = NULL, \
                old_data = NULL, new_data = NULL \
          WHERE user_id = $1 OR entity_id = $2",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(&api)
    .execute(conn)
    .await?;
    let mentioned = diesel::sql_query(
        "UPDATE audit_logs SET old_data = NULL, new_data = NULL \
          WHERE position($1 IN upper(concat(old_data::text, new_data::text))) > 0 \
             OR position($2 IN lower(concat(old_data::text, new_data::text))) > 0",
    )
    .bind::<Text, _>(&api)
    .bind::<Text, _>(&plain)
    .execute(conn)
    .await?;
    let mut replays = 0;
    for prefix in replay_prefixes {
        replays += crate::idempotency::forget_user(conn, prefix, user).await?;
    }
    let outbox_events = diesel::sql_query(
        "DELETE FROM outbox_events \
          WHERE aggregate_id = $1 OR aggregate_id = ANY($3) \
             OR position($1 IN upper(payload::text)) > 0 OR position($2 IN lower(payload::text)) > 0",
    )
    .bind::<Text, _>(&api)
    .bind::<Text, _>(&plain)
    .bind::<diesel::sql_types::Array<Text>, _>(aggregates)
    .execute(conn)
    .await?;
    Ok(Forgotten { audit_entries: own + mentioned, replays, outbox_events })
}
