//! `user_tiers`: identity's copy of each user's effective tier.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::user_tiers as t;

/// The user's tier (`SUBSCRIPTION_TIER_…`), when billing has reported one.
pub async fn of(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<Option<String>> {
    t::table.find(user).select(t::tier).first(conn).await.optional()
}

/// Stores `tier` as of `changed_at` for an existing user, unless a report
/// at least as recent is stored. Returns the tier it replaced (`Some(None)`
/// for a first report), or `None` when nothing changed (unknown user, or
/// an older report).
pub async fn set(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    tier: &str,
    changed_at: DateTime<Utc>,
) -> QueryResult<Option<Option<String>>> {
    let before: Option<String> = t::table.find(user).select(t::tier).for_update().first(conn).await.optional()?;
    // INSERT … SELECT from users: an unknown (or purged) user gets no row.
    let written = diesel::sql_query(
        "INSERT INTO user_tiers (user_id, tier, changed_at) SELECT id, $2, $3 FROM users WHERE id = $1 \
         ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, changed_at = excluded.changed_at, updated_at = now() \
         WHERE user_tiers.changed_at < excluded.changed_at",
    )
    .bind::<diesel::sql_types::Uuid, _>(user)
    .bind::<diesel::sql_types::Text, _>(tier)
    .bind::<diesel::sql_types::Timestamptz, _>(changed_at)
    .execute(conn)
    .await?;
    Ok((written == 1).then_some(before))
}
