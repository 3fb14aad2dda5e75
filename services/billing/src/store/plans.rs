//! The plan catalogue table.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::models::PlanRow;
use crate::schema::plans;

/// Every plan row (three; read per call so a reseed applies at once).
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PlanRow>> {
    plans::table.select(PlanRow::as_select()).order(plans::tier).load(conn).await
}
