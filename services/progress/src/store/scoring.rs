//! `performance_results`: the per-note judgement stored beside a scored
//! take's practice record, in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::performance_results;

/// A row of `performance_results`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = performance_results, check_for_backend(diesel::pg::Pg))]
pub struct ResultRow {
    /// The practice record it belongs to.
    pub practice_record_id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// 0–100.
    pub score: f64,
    /// Events in the take.
    pub event_count: i32,
    /// Stated tempo.
    pub tempo_bpm: f64,
    /// Count-in beats.
    pub count_in_beats: i32,
    /// The judgement as JSON.
    pub result: serde_json::Value,
    /// When stored.
    pub created_at: DateTime<Utc>,
}

/// Stores one judgement.
pub async fn insert(conn: &mut AsyncPgConnection, row: &ResultRow) -> QueryResult<usize> {
    diesel::insert_into(performance_results::table).values(row).execute(conn).await
}

/// The judgement of a record, if it was scored.
pub async fn of_record(conn: &mut AsyncPgConnection, record: Uuid) -> QueryResult<Option<ResultRow>> {
    performance_results::table.find(record).select(ResultRow::as_select()).first(conn).await.optional()
}
