//! `feature_flags`: reads for evaluation and the admin's writes.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use uuid::Uuid;

use super::models::{FlagRecord, FlagRow};
use crate::schema::feature_flags as f;

/// The flags named in `names`, or every flag (sorted by name) when empty.
pub async fn load(conn: &mut AsyncPgConnection, names: &[String]) -> QueryResult<Vec<FlagRow>> {
    let query = f::table.select(FlagRow::as_select()).order(f::name.asc()).into_boxed();
    let query = if names.is_empty() { query } else { query.filter(f::name.eq_any(names)) };
    query.load(conn).await
}

/// A flag to create or the fields to change (`None` leaves a column alone;
/// `Some(None)` clears it).
#[derive(Default, AsChangeset)]
#[diesel(table_name = f)]
pub struct FlagChanges {
    /// What the flag gates.
    pub description: Option<Option<String>>,
    /// Master switch.
    pub is_enabled: Option<bool>,
    /// 0–100.
    pub rollout_percentage: Option<f64>,
    /// Targeting.
    pub conditions: Option<Option<serde_json::Value>>,
}

/// Creates the flag `name` with `values` (unset fields take the defaults).
pub async fn insert(conn: &mut AsyncPgConnection, name: &str, values: &FlagChanges) -> QueryResult<FlagRecord> {
    diesel::insert_into(f::table)
        .values((
            f::id.eq(jazz_platform::ids::new_id()),
            f::name.eq(name),
            f::description.eq(values.description.clone().flatten()),
            f::is_enabled.eq(values.is_enabled.unwrap_or(false)),
            f::rollout_percentage.eq(values.rollout_percentage.unwrap_or(0.0)),
            f::conditions.eq(values.conditions.clone().flatten()),
        ))
        .returning(FlagRecord::as_returning())
        .get_result(conn)
        .await
}

/// The flag `name`, locked when `lock`.
pub async fn get(conn: &mut AsyncPgConnection, name: &str, lock: bool) -> QueryResult<Option<FlagRecord>> {
    let query = f::table.filter(f::name.eq(name)).select(FlagRecord::as_select());
    if lock { query.for_update().first(conn).await.optional() } else { query.first(conn).await.optional() }
}

/// Applies `changes` to the flag `id`.
pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, changes: &FlagChanges) -> QueryResult<FlagRecord> {
    diesel::update(f::table.find(id)).set(changes).returning(FlagRecord::as_returning()).get_result(conn).await
}

/// A page of flags sorted by name, after `after` when given.
pub async fn page(conn: &mut AsyncPgConnection, after: Option<&str>, limit: i64) -> QueryResult<Vec<FlagRecord>> {
    let mut query = f::table.select(FlagRecord::as_select()).order(f::name.asc()).limit(limit).into_boxed();
    if let Some(after) = after {
        query = query.filter(f::name.gt(after.to_owned()));
    }
    query.load(conn).await
}

/// Deletes the flag `id`.
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(f::table.find(id)).execute(conn).await
}
