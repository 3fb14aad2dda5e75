//! The learning loop's reads: the review queue (`review_items`), the
//! mastery matrix's cells and the recommendations' per-area history
//! (`practice_records`, `progress_records`), and the lazy fill of the facts
//! older practice records lack. Always filtered by the owner.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{practice_records as pr, review_items as ri};

/// One card of the review queue.
#[derive(Debug, Clone, QueryableByName)]
pub struct ReviewRow {
    /// The item.
    #[diesel(sql_type = SqlUuid)]
    pub generated_content_id: Uuid,
    /// Due date.
    #[diesel(sql_type = Date)]
    pub due_on: NaiveDate,
    /// Interval.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub interval_days: i32,
    /// Ease.
    #[diesel(sql_type = Double)]
    pub ease: f64,
    /// Latest performance.
    #[diesel(sql_type = Nullable<Double>)]
    pub last_performance: Option<f64>,
    /// Latest assessed practice.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_practiced_at: Option<DateTime<Utc>>,
    /// Reviews counted.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub review_count: i32,
}

/// Where a queue page starts: after (due date, performance rank, item).
pub type QueuePosition = (NaiveDate, f64, Uuid);

/// Up to `limit` cards due on or before `horizon`, soonest due first, then
/// lowest last performance (unassessed last), then by item id. Served by
/// `idx_review_items_user_id_due_on`.
pub async fn review_page(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    horizon: NaiveDate,
    after: Option<QueuePosition>,
    limit: i64,
) -> QueryResult<Vec<ReviewRow>> {
    let (due, rank, item) = match after {
        Some((due, rank, item)) => (Some(due), rank, item),
        None => (None, 0.0, Uuid::nil()),
    };
    diesel::sql_query(
        "SELECT generated_content_id, due_on, interval_days, ease, last_performance, last_practiced_at, review_count \
           FROM review_items \
          WHERE user_id = $1 AND due_on <= $2 \
            AND ($3::date IS NULL \
                 OR (due_on, COALESCE(last_performance, 101), generated_content_id) > ($3, $4, $5)) \
          ORDER BY due_on, COALESCE(last_performance, 101), generated_content_id \
          LIMIT $6",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Date, _>(horizon)
    .bind::<Nullable<Date>, _>(due)
    .bind::<Double, _>(rank)
    .bind::<SqlUuid, _>(item)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// How many cards are due on or before `today`.
pub async fn due_count(conn: &mut AsyncPgConnection, user: Uuid, today: NaiveDate) -> QueryResult<i64> {
    ri::table.filter(ri::user_id.eq(user)).filter(ri::due_on.le(today)).count().get_result(conn).await
}

/// Distinct items of the user's practice records that lack their facts
/// (recorded before keys were kept), at most `limit`.
pub async fn unresolved_items(conn: &mut AsyncPgConnection, user: Uuid, limit: i64) -> QueryResult<Vec<Uuid>> {
    pr::table
        .filter(pr::user_id.eq(user))
        .filter(pr::skill_area.is_null())
        .select(pr::generated_content_id)
        .distinct()
        .limit(limit)
        .load(conn)
        .await
}

/// Copies an item's facts onto the user's records of it that lack them.
pub async fn fill_facts(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    item: Uuid,
    facts: (Option<&str>, &str, &str),
) -> QueryResult<usize> {
    let (key, mode, area) = facts;
    diesel::update(
        pr::table
            .filter(pr::user_id.eq(user))
            .filter(pr::generated_content_id.eq(item))
            .filter(pr::skill_area.is_null()),
    )
    .set((pr::key.eq(key), pr::mode.eq(mode), pr::skill_area.eq(area)))
    .execute(conn)
    .await
}

/// One practised cell of the mastery matrix.
#[derive(Debug, Clone, QueryableByName)]
pub struct CellRow {
    /// Conventional tonic.
    #[diesel(sql_type = Text)]
    pub key: String,
    /// `MAJOR` / `MINOR`.
    #[diesel(sql_type = Text)]
    pub mode: String,
    /// Skill area.
    #[diesel(sql_type = Text)]
    pub skill_area: String,
    /// Minutes.
    #[diesel(sql_type = BigInt)]
    pub minutes: i64,
    /// Latest practice.
    #[diesel(sql_type = Timestamptz)]
    pub last_practiced_at: DateTime<Utc>,
    /// Mean of the latest 5 performances.
    #[diesel(sql_type = Nullable<Double>)]
    pub recent_average: Option<f64>,
}

/// The user's practised cells: totals from `mastery_rollups` (kept by
/// trigger), each cell's latest five performances by a short backward scan
/// of `idx_practice_records_user_cell`.
pub async fn mastery_cells(conn: &mut AsyncPgConnection, user: Uuid) -> QueryResult<Vec<CellRow>> {
    diesel::sql_query(
        "SELECT c.key, c.mode, c.skill_area, c.minutes, c.last_at AS last_practiced_at, r.recent_average \
           FROM mastery_rollups c \
           CROSS JOIN LATERAL ( \
                 SELECT avg(performance) AS recent_average \
                   FROM (SELECT performance FROM practice_records p \
                          WHERE p.user_id = $1 AND p.key = c.key AND p.mode = c.mode \
                            AND p.skill_area = c.skill_area AND p.performance IS NOT NULL \
                          ORDER BY p.practiced_at DESC, p.id DESC LIMIT 5) latest) r \
          WHERE c.user_id = $1",
    )
    .bind::<SqlUuid, _>(user)
    .load(conn)
    .await
}

/// One scored or timed stretch of the user's practice in an area.
#[derive(Debug, Clone, QueryableByName)]
pub struct AreaEventRow {
    /// Skill area.
    #[diesel(sql_type = Text)]
    pub skill_area: String,
    /// Stored difficulty.
    #[diesel(sql_type = Text)]
    pub difficulty: String,
    /// Score or performance.
    #[diesel(sql_type = Nullable<Double>)]
    pub score: Option<f64>,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    /// Minutes in the area (all time; the same on every row of the area).
    #[diesel(sql_type = BigInt)]
    pub area_minutes: i64,
    /// When the area was last practised (the same on every row of it).
    #[diesel(sql_type = Timestamptz)]
    pub area_last: DateTime<Utc>,
}

/// Per skill area (practice and progress records together): its latest
/// `per_area` scored stretches, newest first, with the area's total minutes
/// and latest practice — plus one unscored row for an area with no score,
/// so every practised area appears. One query.
pub async fn area_history(conn: &mut AsyncPgConnection, user: Uuid, per_area: i64) -> QueryResult<Vec<AreaEventRow>> {
    // Totals per area from the learner's rollups (a calendar's worth of
    // rows); each area's latest scored (and latest unscored) stretches by
    // short backward scans of idx_practice_records_user_area /
    // idx_progress_records_user_area_recorded.
    diesel::sql_query(
        "WITH areas AS ( \
             SELECT skill_area, sum(minutes)::bigint AS area_minutes, max(last_at) AS area_last \
               FROM practice_rollups WHERE user_id = $1 AND skill_area <> '' \
              GROUP BY skill_area) \
         SELECT a.skill_area, x.difficulty, x.score, x.at, a.area_minutes, a.area_last \
           FROM areas a \
           CROSS JOIN LATERAL ( \
                 (SELECT difficulty, score, at FROM ( \
                      (SELECT difficulty, performance AS score, practiced_at AS at FROM practice_records \
                        WHERE user_id = $1 AND skill_area = a.skill_area AND performance IS NOT NULL \
                        ORDER BY practiced_at DESC LIMIT $2) \
                      UNION ALL \
                      (SELECT difficulty_level, score, recorded_at FROM progress_records \
                        WHERE user_id = $1 AND skill_area = a.skill_area AND score IS NOT NULL \
                        ORDER BY recorded_at DESC LIMIT $2)) scored \
                   ORDER BY at DESC LIMIT $2) \
                 UNION ALL \
                 (SELECT difficulty, score, at FROM ( \
                      (SELECT difficulty, performance AS score, practiced_at AS at FROM practice_records \
                        WHERE user_id = $1 AND skill_area = a.skill_area AND performance IS NULL \
                        ORDER BY practiced_at DESC LIMIT 1) \
                      UNION ALL \
                      (SELECT difficulty_level, score, recorded_at FROM progress_records \
                        WHERE user_id = $1 AND skill_area = a.skill_area AND score IS NULL \
                        ORDER BY recorded_at DESC LIMIT 1)) unscored \
                   ORDER BY at DESC LIMIT 1)) x \
          ORDER BY a.skill_area, x.at DESC",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<BigInt, _>(per_area)
    .load(conn)
    .await
}

/// Items of the user's whose last performance was poor (below `below`),
/// with the key and area of their latest record: (area, key, mode).
pub async fn lapsed_cards(conn: &mut AsyncPgConnection, user: Uuid, below: f64) -> QueryResult<Vec<LapsedRow>> {
    diesel::sql_query(
        "SELECT DISTINCT latest.skill_area, latest.key, latest.mode \
           FROM review_items ri \
           CROSS JOIN LATERAL ( \
                 SELECT skill_area, key, mode FROM practice_records p \
                  WHERE p.user_id = ri.user_id AND p.generated_content_id = ri.generated_content_id \
                  ORDER BY p.practiced_at DESC LIMIT 1) latest \
          WHERE ri.user_id = $1 AND ri.last_performance < $2",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Double, _>(below)
    .load(conn)
    .await
}

/// A lapsed card's facts, from its latest record.
#[derive(Debug, Clone, QueryableByName)]
pub struct LapsedRow {
    /// Skill area.
    #[diesel(sql_type = Nullable<Text>)]
    pub skill_area: Option<String>,
    /// Conventional tonic.
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    /// `MAJOR` / `MINOR`.
    #[diesel(sql_type = Nullable<Text>)]
    pub mode: Option<String>,
}
