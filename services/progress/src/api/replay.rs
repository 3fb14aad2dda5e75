//! `request_id` replay: the first answer of a creating call, read back from
//! `idempotency_keys` (see `store::idempotency`).

use diesel_async::AsyncPgConnection;
use jazz_platform::ids::to_api;
use prost::Message;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::ProgressError;
use jazz_platform::idempotency;

/// How every progress replay scope starts (a purge deletes the user's
/// scopes by it, `idempotency::forget_user`).
pub const SCOPE_PREFIX: &str = "progress.";

/// The replay scope of a method and caller (two users' ids never meet).
pub fn scope(method: &str, user: Uuid) -> String {
    format!("{SCOPE_PREFIX}{method}:{}", to_api(user))
}

/// The digest of a request's arguments, to refuse a reused id.
pub fn digest(message: &impl Message) -> Vec<u8> {
    Sha256::digest(message.encode_to_vec()).to_vec()
}

/// The stored first answer, if any; REQUEST_ID_REUSED when the arguments
/// differ.
pub async fn find<M: Message + Default>(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
) -> Result<Option<M>, ProgressError> {
    let Some(stored) = idempotency::find(conn, scope, key).await? else { return Ok(None) };
    if stored.request_hash.as_deref().is_some_and(|h| h != hash) {
        return Err(ProgressError::RequestIdReused);
    }
    let bytes = stored.response.ok_or_else(|| ProgressError::Corrupt("replay row without response".into()))?;
    M::decode(bytes.as_slice()).map(Some).map_err(|e| ProgressError::Corrupt(e.to_string()))
}

/// Stores the first answer in the caller's transaction; a concurrent
/// duplicate that stored first → [`ProgressError::DuplicateRequest`] (roll
/// back, then [`find`] its answer).
pub async fn store(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    response: &impl Message,
) -> Result<(), ProgressError> {
    if idempotency::store(conn, scope, key, hash, &response.encode_to_vec()).await? {
        Ok(())
    } else {
        Err(ProgressError::DuplicateRequest)
    }
}

/// One creating call's replay key: scope, the client's `request_id` (none:
/// no de-duplication) and the digest of its arguments.
#[derive(Debug, Clone)]
pub struct Replay {
    scope: String,
    key: Option<String>,
    hash: Vec<u8>,
}

impl Replay {
    /// The key of `method` called by `user` with `message`.
    pub fn new(method: &str, user: Uuid, key: Option<String>, message: &impl Message) -> Self {
        Self { scope: scope(method, user), key, hash: digest(message) }
    }

    /// The first answer, when this `request_id` was seen before.
    pub async fn first<M: Message + Default>(&self, conn: &mut AsyncPgConnection) -> Result<Option<M>, ProgressError> {
        match &self.key {
            Some(key) => find(conn, &self.scope, key, &self.hash).await,
            None => Ok(None),
        }
    }

    /// Stores `response` as the first answer (in the caller's transaction).
    pub async fn remember(&self, conn: &mut AsyncPgConnection, response: &impl Message) -> Result<(), ProgressError> {
        match &self.key {
            Some(key) => store(conn, &self.scope, key, &self.hash, response).await,
            None => Ok(()),
        }
    }

    /// `result`, or — when a concurrent duplicate stored first — its answer.
    pub async fn settle<M: Message + Default>(
        &self,
        conn: &mut AsyncPgConnection,
        result: Result<M, ProgressError>,
    ) -> Result<M, ProgressError> {
        match result {
            Err(ProgressError::DuplicateRequest) => self.first(conn).await?.ok_or(ProgressError::DuplicateRequest),
            other => other,
        }
    }
}
