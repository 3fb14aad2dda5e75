//! The hard delete of an account past its retention window: the user row
//! (profile, sessions, accounts, tier and user-bound tokens go with it by
//! `ON DELETE CASCADE`), the rows keyed only by email (sign-in attempts,
//! tokens without a user), and the platform tables' traces (past outbox
//! events, replay rows, the audit log's policy) through
//! `jazz_platform::erasure`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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

/// Erases the user `id` (with `email`): their sign-in attempts, one-time
/// secrets and the user row (profile, sessions and tier go by cascade),
/// and the platform tables' traces ([`jazz_platform::erasure`]); returns
/// how many audit entries were anonymised.
pub async fn erase(conn: &mut AsyncPgConnection, id: Uuid, email: &str, replay_prefix: &str) -> QueryResult<usize> {
    diesel::delete(a::table.filter(a::email.eq(email))).execute(conn).await?;
    diesel::delete(t::table.filter(t::identifier.eq(email))).execute(conn).await?;
    // Past events (sign-up, deletion, queued mails) name the user too; the
    // USER_PURGED event the caller writes next is all that must remain.
    let forgotten = jazz_platform::erasure::forget_user(conn, id, &[replay_prefix], &[]).await?;
    diesel::delete(u::table.find(id)).execute(conn).await?;
    Ok(forgotten.audit_entries)
}
