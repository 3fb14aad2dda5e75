//! `feature_flags` reads for evaluation.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::FlagRow;
use crate::schema::feature_flags as f;

/// The flags named in `names`, or every flag (sorted by name) when empty.
pub async fn load(conn: &mut AsyncPgConnection, names: &[String]) -> QueryResult<Vec<FlagRow>> {
    let query = f::table.select(FlagRow::as_select()).order(f::name.asc()).into_boxed();
    let query = if names.is_empty() { query } else { query.filter(f::name.eq_any(names)) };
    query.load(conn).await
}
