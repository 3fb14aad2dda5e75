//! `request_id` replay (AIP-155) for creating calls: the first answer of a
//! call is stored in `idempotency_keys` in the call's own transaction, so a
//! retried call with the same `request_id` answers the same and acts once;
//! the same id with *other* arguments is refused with REQUEST_ID_REUSED
//! (a digest of the arguments is stored with the answer).
//!
//! A handler builds one [`Replay`] per call, asks [`Replay::first`] before
//! any work, [`Replay::remember`]s its answer inside the transaction, and
//! passes the transaction's result through [`Replay::settle`], which turns
//! "a concurrent duplicate stored first" into that duplicate's answer.
//! Scopes are `<service>.<Method>:<caller>`, so two callers' ids never meet
//! and a purge can forget a user's answers by scope
//! ([`crate::idempotency::forget_user`]).

use diesel_async::AsyncPgConnection;
use prost::Message;
use sha2::{Digest as _, Sha256};

use crate::error::StoreError;
use crate::idempotency;

/// Why a replay step failed; each service maps it into its own error enum
/// (RequestIdReused → the platform's [`crate::error::request_id_reused`]).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The `request_id` was used before with different arguments.
    #[error("request id reused with other arguments")]
    RequestIdReused,
    /// A concurrent call with the same `request_id` stored its answer
    /// first; roll back and [`Replay::settle`] the result.
    #[error("duplicate request in flight")]
    DuplicateRequest,
    /// A stored answer that does not decode (never the caller's fault).
    #[error("stored answer unreadable: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ReplayError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(StoreError::from(error))
    }
}

/// An error type a replayed call can fail with: it carries
/// [`ReplayError`]s and tells a concurrent duplicate from other failures.
pub trait ReplayFailure: From<ReplayError> {
    /// Whether this is [`ReplayError::DuplicateRequest`].
    fn is_duplicate_request(&self) -> bool;
}

/// Implements `From<ReplayError>` and [`ReplayFailure`] for a service's
/// error enum that has the variants `RequestIdReused`, `DuplicateRequest`,
/// `Corrupt(String)` and `Store(StoreError)` (each service names them in
/// its own `From<Error> for Status`).
#[macro_export]
macro_rules! replay_failure {
    ($error:ty) => {
        impl From<$crate::replay::ReplayError> for $error {
            fn from(error: $crate::replay::ReplayError) -> Self {
                use $crate::replay::ReplayError;
                match error {
                    ReplayError::RequestIdReused => Self::RequestIdReused,
                    ReplayError::DuplicateRequest => Self::DuplicateRequest,
                    ReplayError::Corrupt(what) => Self::Corrupt(what),
                    ReplayError::Store(store) => Self::Store(store),
                }
            }
        }

        impl $crate::replay::ReplayFailure for $error {
            fn is_duplicate_request(&self) -> bool {
                matches!(self, Self::DuplicateRequest)
            }
        }
    };
}

/// The digest of a request's arguments, to refuse a reused id (callers
/// clear the `request_id` field itself first when the message holds it).
pub fn digest(message: &impl Message) -> Vec<u8> {
    Sha256::digest(message.encode_to_vec()).to_vec()
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
    /// The key of `method` of `service` (the scope prefix, e.g. `"content."`)
    /// called by `caller` (a user's ULID or a service's name) with
    /// `arguments`.
    pub fn new(prefix: &str, method: &str, caller: &str, key: Option<String>, arguments: &impl Message) -> Self {
        Self { scope: format!("{prefix}{method}:{caller}"), key, hash: digest(arguments) }
    }

    /// The replay scope (`<prefix><method>:<caller>`).
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The first answer, when this `request_id` was seen before with the
    /// same arguments; REQUEST_ID_REUSED when with other arguments.
    pub async fn first<M: Message + Default>(&self, conn: &mut AsyncPgConnection) -> Result<Option<M>, ReplayError> {
        let Some(key) = &self.key else { return Ok(None) };
        let Some(stored) = idempotency::find(conn, &self.scope, key).await? else { return Ok(None) };
        if stored.request_hash.as_deref().is_some_and(|h| h != self.hash.as_slice()) {
            return Err(ReplayError::RequestIdReused);
        }
        let bytes = stored.response.ok_or_else(|| ReplayError::Corrupt("replay row without response".into()))?;
        M::decode(bytes.as_slice()).map(Some).map_err(|e| ReplayError::Corrupt(e.to_string()))
    }

    /// Stores `response` as the first answer, in the caller's transaction;
    /// [`ReplayError::DuplicateRequest`] when a concurrent call stored first.
    pub async fn remember(&self, conn: &mut AsyncPgConnection, response: &impl Message) -> Result<(), ReplayError> {
        let Some(key) = &self.key else { return Ok(()) };
        let stored = idempotency::store(conn, &self.scope, key, &self.hash, &response.encode_to_vec()).await?;
        if stored { Ok(()) } else { Err(ReplayError::DuplicateRequest) }
    }

    /// `result`, or — when a concurrent duplicate stored first — its answer.
    pub async fn settle<M: Message + Default, E: ReplayFailure>(
        &self,
        conn: &mut AsyncPgConnection,
        result: Result<M, E>,
    ) -> Result<M, E> {
        match result {
            Err(error) if error.is_duplicate_request() => {
                self.first(conn).await?.ok_or_else(|| ReplayError::DuplicateRequest.into())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_name_service_method_and_caller_and_digests_the_arguments() {
        let a = Replay::new("content.", "GenerateContent", "01ARZ3NDEKTSV4RRFFQ69G5FAV", Some("r1".into()), &1_u32);
        assert_eq!(a.scope(), "content.GenerateContent:01ARZ3NDEKTSV4RRFFQ69G5FAV");
        let b = Replay::new("content.", "GenerateContent", "01ARZ3NDEKTSV4RRFFQ69G5FAV", Some("r1".into()), &2_u32);
        assert_ne!(a.hash, b.hash);
        assert_eq!(digest(&1_u32), a.hash);
    }
}
