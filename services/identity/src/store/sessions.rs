//! `sessions`: bearer sessions found by the hash of their token.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{SessionRow, UserRow};
use crate::schema::{sessions as s, users as u};

/// Stored user agents are cut to this many characters.
const MAX_USER_AGENT: usize = 512;

/// Creates a session for `user_id` with token hash `hash`.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    hash: &str,
    expires: DateTime<Utc>,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> QueryResult<SessionRow> {
    diesel::insert_into(s::table)
        .values((
            s::id.eq(jazz_platform::ids::new_id()),
            s::session_token.eq(hash),
            s::user_id.eq(user_id),
            s::expires.eq(expires),
            s::ip_address.eq(ip.map(|ip| ip.chars().take(100).collect::<String>())),
            s::user_agent.eq(user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>())),
        ))
        .returning(SessionRow::as_returning())
        .get_result(conn)
        .await
}

/// The live session with token hash `hash` and its user, in one indexed
/// lookup: not revoked, not expired, user active and not deleted.
pub async fn live_by_hash(conn: &mut AsyncPgConnection, hash: &str) -> QueryResult<Option<(SessionRow, UserRow)>> {
    s::table
        .inner_join(u::table)
        .filter(s::session_token.eq(hash))
        .filter(s::revoked_at.is_null())
        .filter(s::expires.gt(now))
        .filter(u::is_active.eq(true))
        .filter(u::deleted_at.is_null())
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Sets `last_seen_at` to now when it is older than a minute.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid, last_seen: DateTime<Utc>) -> QueryResult<()> {
    if Utc::now() - last_seen < Duration::minutes(1) {
        return Ok(());
    }
    diesel::update(s::table.find(id)).set(s::last_seen_at.eq(now)).execute(conn).await.map(drop)
}

/// Revokes the caller's live session `id`; 0 when it is not one.
pub async fn revoke(conn: &mut AsyncPgConnection, user_id: Uuid, id: Uuid) -> QueryResult<usize> {
    diesel::update(
        s::table.find(id).filter(s::user_id.eq(user_id)).filter(s::revoked_at.is_null()).filter(s::expires.gt(now)),
    )
    .set(s::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// Revokes every live session of `user_id` except `keep`; returns how many.
pub async fn revoke_all(conn: &mut AsyncPgConnection, user_id: Uuid, keep: Option<Uuid>) -> QueryResult<usize> {
    let target = s::table.filter(s::user_id.eq(user_id)).filter(s::revoked_at.is_null()).filter(s::expires.gt(now));
    match keep {
        Some(keep) => diesel::update(target.filter(s::id.ne(keep))).set(s::revoked_at.eq(now)).execute(conn).await,
        None => diesel::update(target).set(s::revoked_at.eq(now)).execute(conn).await,
    }
}

/// A page of the caller's live sessions, most recently seen first, after
/// the keyset `(last_seen_at, id)` when given.
pub async fn list_live(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    let mut query = s::table
        .filter(s::user_id.eq(user_id))
        .filter(s::revoked_at.is_null())
        .filter(s::expires.gt(now))
        .select(SessionRow::as_select())
        .order((s::last_seen_at.desc(), s::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((seen, id)) = after {
        query = query.filter(s::last_seen_at.lt(seen).or(s::last_seen_at.eq(seen).and(s::id.lt(id))));
    }
    query.load(conn).await
}

/// How many live sessions `user_id` has.
pub async fn count_live(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<i64> {
    s::table
        .filter(s::user_id.eq(user_id))
        .filter(s::revoked_at.is_null())
        .filter(s::expires.gt(now))
        .count()
        .get_result(conn)
        .await
}

/// Distinct users whose session was used during `[from, to)`.
pub async fn active_users(conn: &mut AsyncPgConnection, from: DateTime<Utc>, to: DateTime<Utc>) -> QueryResult<i64> {
    s::table
        .filter(s::last_seen_at.ge(from).and(s::last_seen_at.lt(to)))
        .select(diesel::dsl::count(s::user_id).aggregate_distinct())
        .first(conn)
        .await
}
