//! `request_id` replay: the first response of a creating call, stored in
//! the platform table `idempotency_keys` in the call's own transaction, so a
//! retried call answers the same and acts once. Scope names the method and
//! the caller.

use crate::schema::idempotency_keys as ik;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored first answer.
#[derive(Debug, Clone, Queryable)]
pub struct Stored {
    /// Digest of the first request's arguments.
    pub request_hash: Option<Vec<u8>>,
    /// The encoded protobuf response.
    pub response: Option<Vec<u8>>,
}

/// The stored answer for (scope, key), if any.
pub async fn find(conn: &mut AsyncPgConnection, scope: &str, key: &str) -> QueryResult<Option<Stored>> {
    ik::table
        .filter(ik::scope.eq(scope))
        .filter(ik::key.eq(key))
        .select((ik::request_hash, ik::response))
        .first(conn)
        .await
        .optional()
}

/// Stores the first answer; `false` when another call stored one first
/// (a concurrent duplicate waits on the key until that call commits).
pub async fn store(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    request_hash: &[u8],
    response: &[u8],
) -> QueryResult<bool> {
    let inserted = diesel::insert_into(ik::table)
        .values((
            ik::scope.eq(scope),
            ik::key.eq(key),
            ik::status.eq("completed"),
            ik::request_hash.eq(request_hash),
            ik::response.eq(response),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Erasure: deletes the stored answers of every scope that starts with
/// `prefix` (e.g. `"progress."`) and ends with `:<user ULID>` — the form of
/// per-caller scopes — since those answers hold the user's data. Returns how
/// many were deleted. Call it inside the purge's transaction.
pub async fn forget_user(conn: &mut AsyncPgConnection, prefix: &str, user: uuid::Uuid) -> QueryResult<usize> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    let pattern = format!("{escaped}%:{}", crate::ids::to_api(user));
    diesel::delete(ik::table.filter(ik::scope.like(pattern))).execute(conn).await
}
