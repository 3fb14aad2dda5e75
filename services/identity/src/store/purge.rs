//! The hard delete of an account past its retention window: the user row
//! (profile, sessions, accounts and user-bound tokens go with it by
//! `ON DELETE CASCADE`), the rows keyed only by email (sign-in attempts,
//! tokens without a user), the user's past outbox events, and the user's
//! traces in the audit log (the entries stay, with user, client and
//! before/after data cleared).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::schema::{audit_logs as l, outbox_events as o};
use uuid::Uuid;

use crate::schema::{sign_in_attempts as a, users as u, verification_tokens as t};

/// The oldest user deleted before `cutoff`, locked (`SKIP LOCKED`, so two
/// purge runs never take the same user): id and email.
pub async fn next_expired(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> QueryResult<Option<(Uuid, String)>> {
    u::table
        .filter(u::deleted_at.lt(cutoff))
        .order(u::deleted_at.asc())
        .select((u::id, u::email))
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

/// Erases the user `id` (with `email`); returns how many audit entries were
/// cleared.
pub async fn erase(conn: &mut AsyncPgConnection, id: Uuid, email: &str) -> QueryResult<usize> {
    diesel::delete(a::table.filter(a::email.eq(email))).execute(conn).await?;
    diesel::delete(t::table.filter(t::identifier.eq(email))).execute(conn).await?;
    let api_id = jazz_platform::ids::to_api(id);
    let about_user = l::user_id.eq(id).or(l::entity.eq("users").and(l::entity_id.eq(&api_id)));
    // Entries about the user keep action, entity and time; the user's id,
    // address, agent and before/after data (which hold the email) go.
    let cleared = diesel::update(l::table.filter(about_user))
        .set((
            l::user_id.eq(None::<Uuid>),
            l::old_data.eq(None::<serde_json::Value>),
            l::new_data.eq(None::<serde_json::Value>),
            l::ip_address.eq(None::<String>),
            l::user_agent.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    diesel::update(l::table.filter(l::entity.eq("users")).filter(l::entity_id.eq(&api_id)))
        .set(l::entity_id.eq(None::<String>))
        .execute(conn)
        .await?;
    // Its past events (sign-up, deletion, queued mails) name the user too;
    // the USER_PURGED event the caller writes next is all that must remain.
    diesel::delete(o::table.filter(o::aggregate_id.eq(&api_id))).execute(conn).await?;
    diesel::delete(u::table.find(id)).execute(conn).await?;
    Ok(cleared)
}
