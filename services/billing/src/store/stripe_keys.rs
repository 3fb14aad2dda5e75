//! Idempotency-Keys for Stripe, stored in the platform's `idempotency_keys`
//! (status `in_progress`) before the call they guard, so a retry after a
//! timeout or crash sends the same key and Stripe acts once
//! (`docs/database.md`). StartCheckout's own `request_id` row doubles as
//! its key's record and, once `completed`, as the replayed answer.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::schema::idempotency_keys as ik;

/// A stored row, as far as replay needs it.
#[derive(Debug, Clone, Queryable)]
pub struct KeyRow {
    /// The key.
    pub key: String,
    /// `in_progress` or `completed`.
    pub status: String,
    /// Digest of the arguments it was reserved for.
    pub request_hash: Option<Vec<u8>>,
    /// The encoded answer once `completed`.
    pub response: Option<Vec<u8>>,
}

/// The row for (scope, key).
pub async fn find(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    ik::table
        .filter(ik::scope.eq(scope).and(ik::key.eq(key)))
        .select((ik::key, ik::status, ik::request_hash, ik::response))
        .first(conn)
        .await
        .optional()
}

/// The reservations still open in `scope` (operations without a request
/// id keep at most one).
pub async fn open_in(conn: &mut AsyncPgConnection, scope: &str) -> QueryResult<Vec<KeyRow>> {
    ik::table
        .filter(ik::scope.eq(scope).and(ik::status.eq("in_progress")))
        .select((ik::key, ik::status, ik::request_hash, ik::response))
        .order(ik::created_at)
        .load(conn)
        .await
}

/// Reserves (scope, key) for an outside call with the arguments' digest;
/// `false` if it was already there.
pub async fn reserve(conn: &mut AsyncPgConnection, scope: &str, key: &str, hash: &[u8]) -> QueryResult<bool> {
    let inserted = diesel::insert_into(ik::table)
        .values((ik::scope.eq(scope), ik::key.eq(key), ik::status.eq("in_progress"), ik::request_hash.eq(hash)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Completes a reservation with the answer to replay.
pub async fn complete(conn: &mut AsyncPgConnection, scope: &str, key: &str, response: &[u8]) -> QueryResult<()> {
    diesel::update(ik::table.filter(ik::scope.eq(scope).and(ik::key.eq(key))))
        .set((ik::status.eq("completed"), ik::response.eq(response)))
        .execute(conn)
        .await
        .map(drop)
}

/// Drops a reservation whose call is done (or superseded).
pub async fn release(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<()> {
    diesel::delete(ik::table.filter(ik::scope.eq(scope).and(ik::key.eq(key)))).execute(conn).await.map(drop)
}
