//! `ListAuditLogs`, the same in every service: validate the filter, read a
//! keyset page with [`crate::audit::list`] (newest first, ties by id), and
//! answer entries plus a page token bound to the filter.
//!
//! Only the token format differs between services (each keeps its own, see
//! [`AuditPageTokens`]), so a service's handler is a destructuring of its
//! request, one call here and a mapping of [`AuditListError`] into its own
//! error enum.

use crate::page_token::last_of_page;
use chrono::{DateTime, Utc};
use jazz_contract::jazz::common::v1::AuditLogEntry;
use prost_types::Timestamp;
use uuid::Uuid;

use crate::audit::{AuditFilter, AuditRow};
use crate::db::DbPool;
use crate::error::{FieldViolation, StoreError, Violations};
use crate::fields::{page_size, time, timestamp};
use crate::ids::{parse_optional_id, to_api};
use crate::page_token::{InvalidPageToken, PageSigner};

/// Longest user agent returned (`audit.proto`).
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// The fields every service's `ListAuditLogsRequest` has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditListRequest {
    /// Only entries about this user (ULID); empty: all entries.
    pub user_id: String,
    /// Only entries at or after this time.
    pub start_time: Option<Timestamp>,
    /// Only entries before this time; unset: now.
    pub end_time: Option<Timestamp>,
    /// 0 → 50, above 200 → 200, negative refused.
    pub page_size: i32,
    /// The `next_page_token` of a previous call with the same filter.
    pub page_token: String,
}

/// The fields every service's `ListAuditLogsResponse` has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditListPage {
    /// Newest first, ties by id descending.
    pub entries: Vec<AuditLogEntry>,
    /// Empty on the last page.
    pub next_page_token: String,
}

/// Why a `ListAuditLogs` failed; each service maps it into its own enum.
#[derive(Debug, thiserror::Error)]
pub enum AuditListError {
    /// Request fields broke their rules.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A page token not issued for this filter (or tampered with).
    #[error("invalid page token")]
    InvalidPageToken,
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<InvalidPageToken> for AuditListError {
    fn from(_: InvalidPageToken) -> Self {
        Self::InvalidPageToken
    }
}

/// A service's page-token format for the `(created_at, id)` position.
pub trait AuditPageTokens: Send + Sync {
    /// A token for the position after (`at`, `id`) under `binding`.
    fn encode(&self, binding: &str, at: DateTime<Utc>, id: Uuid) -> String;
    /// The position of a non-empty token issued under `binding`.
    fn decode(&self, binding: &str, token: &str) -> Result<(DateTime<Utc>, Uuid), InvalidPageToken>;
}

impl AuditPageTokens for PageSigner {
    fn encode(&self, binding: &str, at: DateTime<Utc>, id: Uuid) -> String {
        PageSigner::encode(self, binding, &[at.timestamp_micros().to_string(), to_api(id)])
    }

    fn decode(&self, binding: &str, token: &str) -> Result<(DateTime<Utc>, Uuid), InvalidPageToken> {
        let parts = PageSigner::decode(self, binding, token, 2)?;
        position_of(&parts).ok_or(InvalidPageToken)
    }
}

/// A `(micros, ULID)` position from its two text parts (for token formats
/// that carry it as text).
pub fn position_of(parts: &[String]) -> Option<(DateTime<Utc>, Uuid)> {
    let [micros, id] = parts else { return None };
    let at = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros)?;
    let id = crate::ids::parse_id("page_token", id).ok()?;
    Some((at, id))
}

/// One page of `service`'s audit log (`service` is what the entries' field
/// says: "billing", "content", …), with page tokens made by `tokens`.
pub async fn list_page(
    pool: &DbPool,
    service: &'static str,
    tokens: &dyn AuditPageTokens,
    request: AuditListRequest,
) -> Result<AuditListPage, AuditListError> {
    let AuditListRequest { user_id, start_time, end_time, page_size: size, page_token } = request;
    let mut violations = Violations::new();
    let user = violations.check(parse_optional_id("user_id", &user_id)).flatten();
    let start = violations.check(time("start_time", start_time.as_ref())).flatten();
    let end = violations.check(time("end_time", end_time.as_ref())).flatten();
    let size = violations.check(page_size(size));
    violations.finish().map_err(AuditListError::Invalid)?;
    let size = size.unwrap_or(crate::fields::DEFAULT_PAGE_SIZE);
    // The binding names the list and the filter as given, so a token is
    // refused under any other filter (`;`, never `|`: some token formats
    // split on `|`).
    let binding = format!(
        "audit;{};{};{}",
        user.map(to_api).unwrap_or_default(),
        start.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
        end.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
    );
    let after = if page_token.is_empty() { None } else { Some(tokens.decode(&binding, &page_token)?) };
    let filter = AuditFilter { user_id: user, start, end: end.unwrap_or_else(Utc::now), after };
    let mut conn = pool.get().await.map_err(StoreError::from)?;
    let mut rows = crate::audit::list(&mut conn, filter, size + 1).await.map_err(StoreError::from)?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => tokens.encode(&binding, last.created_at, last.id),
        None => String::new(),
    };
    Ok(AuditListPage { entries: rows.into_iter().map(|row| entry(row, service)).collect(), next_page_token })
}

/// A stored row as the API's entry.
pub fn entry(row: AuditRow, service: &str) -> AuditLogEntry {
    AuditLogEntry {
        id: to_api(row.id),
        service: service.to_owned(),
        user_id: row.user_id.map(to_api).unwrap_or_default(),
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id.unwrap_or_default(),
        old_data: row.old_data.as_ref().and_then(json_object),
        new_data: row.new_data.as_ref().and_then(json_object),
        metadata: row.metadata.as_ref().and_then(json_object),
        ip_address: row.ip_address.unwrap_or_default(),
        user_agent: row.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()).unwrap_or_default(),
        created_at: Some(timestamp(row.created_at)),
    }
}

/// A JSON object as a protobuf `Struct` (other JSON has no Struct form).
fn json_object(value: &serde_json::Value) -> Option<prost_types::Struct> {
    value.is_object().then(|| crate::json::json_to_struct(value))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn signed_positions_round_trip_and_stay_bound() {
        let signer = PageSigner::new(&SecretString::from("k".repeat(32)), "content");
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_default();
        let id = crate::ids::new_id();
        let token = AuditPageTokens::encode(&signer, "audit;a;;", at, id);
        assert_eq!(AuditPageTokens::decode(&signer, "audit;a;;", &token).ok(), Some((at, id)));
        assert!(AuditPageTokens::decode(&signer, "audit;b;;", &token).is_err());
    }

    #[test]
    fn only_json_objects_become_structs() {
        let object = serde_json::json!({"a": [1, {"b": "c"}], "d": null});
        assert_eq!(json_object(&object).map(|s| s.fields.len()), Some(2));
        assert!(json_object(&serde_json::json!([1, 2])).is_none());
    }
}
