//! `idempotency_keys`: the first answer of a creating call, replayed for the
//! same request id (scope names method and caller).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::schema::idempotency_keys as k;

/// The stored response for `(scope, key)`, if any.
pub async fn stored(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<Option<Vec<u8>>> {
    let row: Option<Option<Vec<u8>>> = k::table
        .find((scope, key))
        .filter(k::status.eq("completed"))
        .select(k::response)
        .first(conn)
        .await
        .optional()?;
    Ok(row.flatten())
}

/// Records `response` for `(scope, key)`, in the creating transaction (a
/// concurrent duplicate waits on the key, then hits the primary key).
pub async fn record(conn: &mut AsyncPgConnection, scope: &str, key: &str, response: &[u8]) -> QueryResult<()> {
    diesel::insert_into(k::table)
        .values((k::scope.eq(scope), k::key.eq(key), k::status.eq("completed"), k::response.eq(response)))
        .execute(conn)
        .await
        .map(drop)
}
