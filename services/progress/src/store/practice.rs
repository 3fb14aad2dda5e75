//! Practice sessions and their records. Every read filters by the owner,
//! so another user's session is indistinguishable from a missing one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{RecordRow, SessionRow};
use crate::schema::{practice_records as pr, practice_sessions as ps};

/// Inserts a session.
pub async fn insert_session(conn: &mut AsyncPgConnection, row: &SessionRow) -> QueryResult<SessionRow> {
    diesel::insert_into(ps::table).values(row).returning(SessionRow::as_returning()).get_result(conn).await
}

/// The caller's session `id`, locked `FOR UPDATE` when `lock`.
pub async fn own_session(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    id: Uuid,
    lock: bool,
) -> QueryResult<Option<SessionRow>> {
    let query = ps::table.filter(ps::id.eq(id)).filter(ps::user_id.eq(user)).select(SessionRow::as_select());
    if lock { query.for_update().first(conn).await.optional() } else { query.first(conn).await.optional() }
}

/// What ending a session sets.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = ps)]
pub struct EndChanges {
    /// Minutes.
    pub duration: i32,
    /// Achievements.
    pub achievements: Vec<String>,
    /// Notes (replaced).
    pub notes: Option<Option<String>>,
    /// Rating.
    pub rating: Option<i32>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
}

/// Ends session `id` (still open; the caller holds its lock).
pub async fn end_session(conn: &mut AsyncPgConnection, id: Uuid, changes: EndChanges) -> QueryResult<SessionRow> {
    diesel::update(ps::table.filter(ps::id.eq(id)))
        .set(changes)
        .returning(SessionRow::as_returning())
        .get_result(conn)
        .await
}

/// Inserts a practice record.
pub async fn insert_record(conn: &mut AsyncPgConnection, row: &RecordRow) -> QueryResult<RecordRow> {
    diesel::insert_into(pr::table).values(row).returning(RecordRow::as_returning()).get_result(conn).await
}

/// A session's records, oldest first.
pub async fn records_of(conn: &mut AsyncPgConnection, session: Uuid) -> QueryResult<Vec<RecordRow>> {
    pr::table
        .filter(pr::practice_session_id.eq(session))
        .order((pr::created_at.asc(), pr::id.asc()))
        .select(RecordRow::as_select())
        .load(conn)
        .await
}

/// (record count, minutes) per session of `sessions`, in one grouped query.
pub async fn record_totals(conn: &mut AsyncPgConnection, sessions: &[Uuid]) -> QueryResult<HashMap<Uuid, (i64, i64)>> {
    use diesel::dsl::{count_star, sum};
    let rows: Vec<(Uuid, i64, Option<i64>)> = pr::table
        .filter(pr::practice_session_id.eq_any(sessions))
        .group_by(pr::practice_session_id)
        .select((pr::practice_session_id, count_star(), sum(pr::time_spent)))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(id, n, minutes)| (id, (n, minutes.unwrap_or(0)))).collect())
}

/// Which page of a list.
#[derive(Debug, Clone, Copy)]
pub struct SessionFilter {
    /// The owner.
    pub user: Uuid,
    /// Started at or after.
    pub start: Option<DateTime<Utc>>,
    /// Started before.
    pub end: Option<DateTime<Utc>>,
    /// Strictly after this (started_at, id) in latest-first order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// Up to `limit` sessions, latest start first (ties by id, descending).
pub async fn list_sessions(
    conn: &mut AsyncPgConnection,
    filter: SessionFilter,
    limit: i64,
) -> QueryResult<Vec<SessionRow>> {
    let mut query = ps::table.filter(ps::user_id.eq(filter.user)).select(SessionRow::as_select()).into_boxed();
    if let Some(start) = filter.start {
        query = query.filter(ps::started_at.ge(start));
    }
    if let Some(end) = filter.end {
        query = query.filter(ps::started_at.lt(end));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(ps::started_at.lt(at).or(ps::started_at.eq(at).and(ps::id.lt(id))));
    }
    query.order((ps::started_at.desc(), ps::id.desc())).limit(limit).load(conn).await
}
