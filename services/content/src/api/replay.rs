//! `request_id` replay: the first answer of a creating call, read back from
//! `idempotency_keys` (see `store::idempotency`).

use diesel_async::AsyncPgConnection;
use jazz_platform::ids::to_api;
use prost::Message;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::error::ContentError;
use jazz_platform::idempotency;

/// What every content replay scope starts with (the purge forgets them).
pub const SCOPE_PREFIX: &str = "content.";

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
) -> Result<Option<M>, ContentError> {
    let Some(stored) = idempotency::find(conn, scope, key).await? else { return Ok(None) };
    if stored.request_hash.as_deref().is_some_and(|h| h != hash) {
        return Err(ContentError::request_id_reused());
    }
    let bytes = stored.response.ok_or_else(|| ContentError::Corrupt("replay row without response".into()))?;
    M::decode(bytes.as_slice()).map(Some).map_err(|e| ContentError::Corrupt(e.to_string()))
}

/// Stores the first answer in the caller's transaction; a concurrent
/// duplicate that stored first → [`ContentError::DuplicateRequest`] (roll
/// back, then [`find`] its answer).
pub async fn store(
    conn: &mut AsyncPgConnection,
    scope: &str,
    key: &str,
    hash: &[u8],
    response: &impl Message,
) -> Result<(), ContentError> {
    if idempotency::store(conn, scope, key, hash, &response.encode_to_vec()).await? {
        Ok(())
    } else {
        Err(ContentError::DuplicateRequest)
    }
}
