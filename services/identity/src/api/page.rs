//! Identity's page tokens for ListAccounts, ListSessions, ListFeatureFlags,
//! ListAuditLogs and GetUserAuditTrail: the platform's signed tokens
//! ([`jazz_platform::page_token`]) under identity's domain, bound to the
//! list and the filter (for user-facing lists it holds the caller's id),
//! so a tampered, foreign or reused-with-another-filter token is refused
//! with INVALID_ARGUMENT (reason INVALID_PAGE_TOKEN) naming `page_token`.

use jazz_platform::ServiceContext;
use jazz_platform::page_token::PageSigner;

use crate::error::IdentityError;

/// The signer of identity's page tokens.
pub fn signer(context: &ServiceContext) -> PageSigner {
    PageSigner::new(&context.config.principal_secret, "identity")
}

fn binding(list: &str, filter: &str) -> String {
    format!("{list}|{filter}")
}

/// The answer for every unusable token.
pub fn invalid_token() -> IdentityError {
    IdentityError::InvalidPageToken
}

/// A token for `position` in `list` under `filter` (no part may contain `|`:
/// ids, numbers and flag names never do).
pub fn encode(context: &ServiceContext, list: &str, filter: &str, position: &[&str]) -> String {
    let parts: Vec<String> = position.iter().map(|part| (*part).to_owned()).collect();
    signer(context).encode(&binding(list, filter), &parts)
}

/// The `parts` position parts of a token issued for `list` and `filter`;
/// `None` for no token.
pub fn decode(
    context: &ServiceContext,
    token: &str,
    list: &str,
    filter: &str,
    parts: usize,
) -> Result<Option<Vec<String>>, IdentityError> {
    if token.is_empty() {
        return Ok(None);
    }
    Ok(Some(signer(context).decode(&binding(list, filter), token, parts)?))
}

/// A `(created_at micros, ULID)` keyset position.
pub fn time_and_id(parts: &[String]) -> Result<(chrono::DateTime<chrono::Utc>, uuid::Uuid), IdentityError> {
    jazz_platform::audit_list::position_of(parts).ok_or_else(invalid_token)
}
