//! GetProgressSummary's aggregate queries over `practice_rollups` (per
//! learner and UTC quarter-hour, kept by trigger; decision 38): the range
//! grouped by the user's local day and skill area, the streaks as runs of
//! local days over all history (gaps and islands), and the sessions' count
//! and mean rating. Each reads a learner's calendar, not their history.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{BigInt, Date, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One (local day, area) of the range.
#[derive(Debug, Clone, QueryableByName)]
pub struct DayAreaRow {
    /// Local date in the zone asked.
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    /// Skill area (NULL for practice records whose item's is unknown).
    #[diesel(sql_type = Nullable<Text>)]
    pub area: Option<String>,
    /// Minutes.
    #[diesel(sql_type = BigInt)]
    pub minutes: i64,
    /// Sum of scores.
    #[diesel(sql_type = Nullable<Double>)]
    pub score_sum: Option<f64>,
    /// Number of scores.
    #[diesel(sql_type = Integer)]
    pub score_count: i32,
}

/// The rollups' grain: UTC quarter-hours, on which every zone's midnight falls.
const BUCKET_SECS: i64 = 15 * 60;

/// The whole quarter-hours within `start..end`, as a range (empty when there
/// are none): the rollups answer for those, the records for the edges.
fn whole_buckets(start: DateTime<Utc>, end: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let floor = |t: DateTime<Utc>| {
        DateTime::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(BUCKET_SECS), 0).unwrap_or(t)
    };
    let first = if floor(start) == start { start } else { floor(start) + chrono::Duration::seconds(BUCKET_SECS) };
    let last = floor(end);
    if first < last { (first, last) } else { (end, end) }
}

/// Practice and progress records of `start..end`, grouped by the local day
/// in `tz` (an IANA name PostgreSQL knows; DST-correct) and skill area: the
/// range's whole quarter-hours from the rollups, its ragged edges (under a
/// quarter-hour each) from the records.
pub async fn day_areas(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: &str,
) -> QueryResult<Vec<DayAreaRow>> {
    let (first, last) = whole_buckets(start, end);
    diesel::sql_query(
        "SELECT (at AT TIME ZONE $6)::date AS day, NULLIF(area, '') AS area, sum(minutes)::bigint AS minutes, \
                sum(score_sum) AS score_sum, sum(score_count)::int AS score_count \
           FROM (SELECT bucket AS at, skill_area AS area, minutes, score_sum, score_count \
                   FROM practice_rollups WHERE user_id = $1 AND bucket >= $4 AND bucket < $5 \
                 UNION ALL \
                 SELECT practiced_at, coalesce(skill_area, ''), time_spent, performance, (performance IS NOT NULL)::int \
                   FROM practice_records WHERE user_id = $1 \
                    AND (practiced_at >= $2 AND practiced_at < $4 OR practiced_at >= $5 AND practiced_at < $3) \
                 UNION ALL \
                 SELECT recorded_at, skill_area, time_spent, score, (score IS NOT NULL)::int \
                   FROM progress_records WHERE user_id = $1 \
                    AND (recorded_at >= $2 AND recorded_at < $4 OR recorded_at >= $5 AND recorded_at < $3)) e \
          GROUP BY 1, 2",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .bind::<Timestamptz, _>(first)
    .bind::<Timestamptz, _>(last)
    .bind::<Text, _>(tz)
    .load(conn)
    .await
}

/// The user's runs of consecutive practice days.
#[derive(Debug, Clone, QueryableByName)]
pub struct StreakRow {
    /// The longest run, in days.
    #[diesel(sql_type = Integer)]
    pub longest: i32,
    /// The last day of the latest run.
    #[diesel(sql_type = Date)]
    pub last_day: NaiveDate,
    /// The latest run's length.
    #[diesel(sql_type = Integer)]
    pub length: i32,
}

/// Longest and latest runs of local practice days in `tz` over all
/// history (a quarter-hour's local day is its start's); `None` without any
/// practice.
pub async fn streaks(conn: &mut AsyncPgConnection, user: Uuid, tz: &str) -> QueryResult<Option<StreakRow>> {
    use diesel::OptionalExtension as _;
    diesel::sql_query(
        "WITH days AS (SELECT DISTINCT (bucket AT TIME ZONE $2)::date AS day FROM practice_rollups WHERE user_id = $1), \
         runs AS ( \
             SELECT max(day) AS last_day, count(*)::int AS length \
               FROM (SELECT day, day - (row_number() OVER (ORDER BY day))::int AS island FROM days) d \
              GROUP BY island) \
         SELECT (SELECT max(length) FROM runs)::int AS longest, last_day, length \
           FROM runs ORDER BY last_day DESC LIMIT 1",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(tz)
    .get_result(conn)
    .await
    .optional()
}

/// Sessions started in the range.
#[derive(Debug, Clone, QueryableByName)]
pub struct SessionStats {
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    /// Mean rating of the rated ones.
    #[diesel(sql_type = Nullable<Double>)]
    pub average_rating: Option<f64>,
}

/// Count and mean rating of the user's sessions started in `start..end`.
pub async fn session_stats(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<SessionStats> {
    diesel::sql_query(
        "SELECT count(*) AS count, avg(rating)::float8 AS average_rating FROM practice_sessions \
          WHERE user_id = $1 AND started_at >= $2 AND started_at < $3",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(end)
    .get_result(conn)
    .await
}
