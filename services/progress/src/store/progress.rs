//! Progress records and the review schedule, always filtered by owner.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::ProgressRow;
use crate::domain::practice::Schedule;
use crate::schema::{progress_records as pg, review_items as ri};

/// Inserts a progress record.
pub async fn insert(conn: &mut AsyncPgConnection, row: &ProgressRow) -> QueryResult<ProgressRow> {
    diesel::insert_into(pg::table).values(row).returning(ProgressRow::as_returning()).get_result(conn).await
}

/// Which page of a list.
#[derive(Debug, Clone)]
pub struct ProgressFilter {
    /// The owner.
    pub user: Uuid,
    /// Only this area.
    pub skill_area: Option<String>,
    /// Recorded at or after.
    pub start: Option<DateTime<Utc>>,
    /// Recorded before.
    pub end: Option<DateTime<Utc>>,
    /// Strictly after this (recorded_at, id) in latest-first order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// Up to `limit` records, latest first (ties by id, descending).
pub async fn list(conn: &mut AsyncPgConnection, filter: ProgressFilter, limit: i64) -> QueryResult<Vec<ProgressRow>> {
    let mut query = pg::table.filter(pg::user_id.eq(filter.user)).select(ProgressRow::as_select()).into_boxed();
    if let Some(area) = filter.skill_area {
        query = query.filter(pg::skill_area.eq(area));
    }
    if let Some(start) = filter.start {
        query = query.filter(pg::recorded_at.ge(start));
    }
    if let Some(end) = filter.end {
        query = query.filter(pg::recorded_at.lt(end));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(pg::recorded_at.lt(at).or(pg::recorded_at.eq(at).and(pg::id.lt(id))));
    }
    query.order((pg::recorded_at.desc(), pg::id.desc())).limit(limit).load(conn).await
}

/// The item's schedule for the user, locked `FOR UPDATE`, if any.
pub async fn lock_schedule(conn: &mut AsyncPgConnection, user: Uuid, item: Uuid) -> QueryResult<Option<Schedule>> {
    let row: Option<(f64, i32, i32)> = ri::table
        .filter(ri::user_id.eq(user))
        .filter(ri::generated_content_id.eq(item))
        .select((ri::ease, ri::interval_days, ri::repetitions))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|(ease, interval_days, repetitions)| Schedule { ease, interval_days, repetitions }))
}

/// Writes the item's schedule (insert or replace), counting the review and
/// keeping the latest practice time.
pub async fn save_schedule(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    item: Uuid,
    schedule: Schedule,
    due_on: NaiveDate,
    performance: f64,
    practiced_at: DateTime<Utc>,
) -> QueryResult<()> {
    let values = (
        ri::user_id.eq(user),
        ri::generated_content_id.eq(item),
        ri::ease.eq(schedule.ease),
        ri::interval_days.eq(schedule.interval_days),
        ri::repetitions.eq(schedule.repetitions),
        ri::due_on.eq(due_on),
        ri::last_performance.eq(Some(performance)),
        ri::review_count.eq(1),
        ri::last_practiced_at.eq(Some(practiced_at)),
    );
    diesel::insert_into(ri::table)
        .values(values)
        .on_conflict((ri::user_id, ri::generated_content_id))
        .do_update()
        .set((
            ri::ease.eq(schedule.ease),
            ri::interval_days.eq(schedule.interval_days),
            ri::repetitions.eq(schedule.repetitions),
            ri::due_on.eq(due_on),
            ri::last_performance.eq(Some(performance)),
            ri::review_count.eq(ri::review_count + 1),
            ri::last_practiced_at.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>>(
                "GREATEST(review_items.last_practiced_at, excluded.last_practiced_at)",
            )),
        ))
        .execute(conn)
        .await
        .map(drop)
}
