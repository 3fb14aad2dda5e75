//! `system_metrics`: the metrics job's points (one per name, day and
//! dimensions, at the day's midnight UTC), progress's own daily figures,
//! and the reads of MetricsAdminService.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Jsonb, Nullable, Text, Timestamptz};
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::metrics::{NewPoint, PRACTICE_MINUTES, PracticeDay};
use crate::schema::{practice_records as pr, system_metrics as m};

/// A stored point.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = m)]
pub struct PointRow {
    /// ULID.
    pub id: Uuid,
    /// The value.
    pub value: f64,
    /// Its dimensions.
    pub dimensions: Option<serde_json::Value>,
    /// When it counts.
    pub recorded_at: DateTime<Utc>,
}

/// Replaces the points of the names in `points` at `at` with `points`, so
/// re-running a day never doubles it (and a dimension that vanished goes).
/// Run it in the caller's transaction; a concurrent run of the same day
/// meets the unique index and overwrites.
pub async fn replace_at(conn: &mut AsyncPgConnection, at: DateTime<Utc>, points: &[NewPoint]) -> QueryResult<()> {
    let mut names: Vec<&str> = points.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    diesel::delete(m::table.filter(m::recorded_at.eq(at)).filter(m::metric_name.eq_any(&names))).execute(conn).await?;
    let rows: Vec<_> = points
        .iter()
        .map(|p| {
            (
                m::id.eq(jazz_platform::ids::new_id()),
                m::metric_name.eq(&p.name),
                m::value.eq(p.value),
                m::dimensions.eq(&p.dimensions),
                m::recorded_at.eq(at),
            )
        })
        .collect();
    diesel::insert_into(m::table)
        .values(rows)
        .on_conflict((m::metric_name, m::recorded_at, m::dimensions))
        .do_update()
        .set(m::value.eq(excluded(m::value)))
        .execute(conn)
        .await
        .map(drop)
}

/// True when the day at `at` has progress's own points (the job writes
/// them on every run, zeros included).
pub async fn recorded(conn: &mut AsyncPgConnection, at: DateTime<Utc>) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        m::table.filter(m::recorded_at.eq(at)).filter(m::metric_name.eq(PRACTICE_MINUTES)),
    ))
    .get_result(conn)
    .await
}

/// What learners practised during `[from, to)`, by `practiced_at`.
pub async fn practice_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<PracticeDay> {
    let (minutes, records, learners): (Option<i64>, i64, i64) = pr::table
        .filter(pr::practiced_at.ge(from).and(pr::practiced_at.lt(to)))
        .select((
            diesel::dsl::sum(pr::time_spent),
            diesel::dsl::count_star(),
            diesel::dsl::count(pr::user_id).aggregate_distinct(),
        ))
        .first(conn)
        .await?;
    Ok(PracticeDay { minutes: minutes.unwrap_or(0), records, learners })
}

/// Which points a query reads.
#[derive(Debug, Clone)]
pub struct Range<'a> {
    /// The metric.
    pub name: &'a str,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
    /// Points whose dimensions contain this JSON object; `None`: all.
    pub dimensions: Option<&'a serde_json::Value>,
}

/// Raw points of `range` after the keyset position `after`, oldest first,
/// at most `limit`.
pub async fn points(
    conn: &mut AsyncPgConnection,
    range: &Range<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<PointRow>> {
    let mut query = m::table
        .filter(m::metric_name.eq(range.name))
        .filter(m::recorded_at.ge(range.start).and(m::recorded_at.lt(range.end)))
        .select(PointRow::as_select())
        .order((m::recorded_at.asc(), m::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(filter) = range.dimensions {
        query = query.filter(m::dimensions.assume_not_null().contains(filter.clone()));
    }
    if let Some((at, id)) = after {
        query = query.filter(m::recorded_at.gt(at).or(m::recorded_at.eq(at).and(m::id.gt(id))));
    }
    query.load(conn).await
}

/// How a bucket's points combine (SQL over `value`, from this fixed list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// `avg`.
    Average,
    /// `sum`.
    Sum,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `count`.
    Count,
    /// The latest point's value.
    Last,
}

impl Aggregate {
    fn sql(self) -> &'static str {
        match self {
            Self::Average => "avg(value)",
            Self::Sum => "sum(value)",
            Self::Min => "min(value)",
            Self::Max => "max(value)",
            Self::Count => "count(*)::float8",
            Self::Last => "(array_agg(value ORDER BY recorded_at DESC, id DESC))[1]",
        }
    }
}

/// One bucket's aggregate.
#[derive(Debug, Clone, QueryableByName)]
pub struct Bucket {
    /// The bucket's start (aligned to the Unix epoch).
    #[diesel(sql_type = Timestamptz)]
    pub start: DateTime<Utc>,
    /// The aggregate.
    #[diesel(sql_type = Double)]
    pub value: f64,
}

/// Non-empty buckets of `width_seconds` over `range`, oldest first, at most
/// `limit`.
pub async fn buckets(
    conn: &mut AsyncPgConnection,
    range: &Range<'_>,
    width_seconds: f64,
    aggregate: Aggregate,
    limit: i64,
) -> QueryResult<Vec<Bucket>> {
    let sql = format!(
        "SELECT to_timestamp(floor(extract(epoch FROM recorded_at) / $4) * $4) AS start, {} AS value \
         FROM system_metrics \
         WHERE metric_name = $1 AND recorded_at >= $2 AND recorded_at < $3 \
           AND ($5::jsonb IS NULL OR dimensions @> $5::jsonb) \
         GROUP BY 1 ORDER BY 1 LIMIT $6",
        aggregate.sql()
    );
    diesel::sql_query(sql)
        .bind::<Text, _>(range.name)
        .bind::<Timestamptz, _>(range.start)
        .bind::<Timestamptz, _>(range.end)
        .bind::<Double, _>(width_seconds)
        .bind::<Nullable<Jsonb>, _>(range.dimensions)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
}

/// Metric names with their latest point's time, sorted by name, after
/// `after`, at most `limit`.
pub async fn names(
    conn: &mut AsyncPgConnection,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(String, Option<DateTime<Utc>>)>> {
    let mut query = m::table
        .group_by(m::metric_name)
        .select((m::metric_name, diesel::dsl::max(m::recorded_at)))
        .order(m::metric_name.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(m::metric_name.gt(after.to_owned()));
    }
    query.load(conn).await
}
