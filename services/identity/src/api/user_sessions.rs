//! ListSessions and RevokeSession. Page tokens are identity's signed ones
//! (`page.rs`), bound to the caller, so a tampered or foreign token is
//! refused (INVALID_ARGUMENT, INVALID_PAGE_TOKEN).

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{
    ListSessionsRequest, ListSessionsResponse, RevokeSessionRequest, RevokeSessionResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::page_token::last_of_page;
use uuid::Uuid;

use super::user::UserApi;
use super::{convert, page};
use crate::error::IdentityError;
use crate::store::sessions;

fn encode_token(api: &UserApi, user_id: Uuid, seen: DateTime<Utc>, id: Uuid) -> String {
    page::encode(&api.context, "sessions", &to_api(user_id), &[&seen.timestamp_micros().to_string(), &to_api(id)])
}

fn decode_token(api: &UserApi, user_id: Uuid, token: &str) -> Result<(DateTime<Utc>, Uuid), IdentityError> {
    let parts = page::decode(&api.context, token, "sessions", &to_api(user_id), 2)?.unwrap_or_default();
    page::time_and_id(&parts)
}

/// The caller's live sessions, most recently seen first.
pub async fn list(
    api: &UserApi,
    principal: &Principal,
    user_id: Uuid,
    req: ListSessionsRequest,
) -> Result<ListSessionsResponse, IdentityError> {
    let ListSessionsRequest { page_size, page_token } = req;
    let size = jazz_platform::fields::page_size(page_size)?;
    let after = if page_token.is_empty() { None } else { Some(decode_token(api, user_id, &page_token)?) };
    let mut conn = api.context.pool.get().await?;
    let mut rows = sessions::list_live(&mut conn, user_id, after, size + 1).await?;
    let next_page_token = match last_of_page(&mut rows, size) {
        Some(last) => encode_token(api, user_id, last.last_seen_at, last.id),
        None => String::new(),
    };
    let sessions = rows.iter().map(|row| convert::session(row, principal.session_id)).collect();
    Ok(ListSessionsResponse { sessions, next_page_token })
}

/// Revokes one of the caller's sessions; another user's (or a dead) one is
/// NOT_FOUND, exactly like one that does not exist.
pub async fn revoke(
    api: &UserApi,
    principal: &Principal,
    user_id: Uuid,
    req: RevokeSessionRequest,
) -> Result<RevokeSessionResponse, IdentityError> {
    let RevokeSessionRequest { session_id } = req;
    let id = parse_id("session_id", &session_id).map_err(|v| IdentityError::Invalid(vec![v]))?;
    let mut conn = api.context.pool.get().await?;
    conn.transaction(async |conn| {
        if sessions::revoke(conn, user_id, id).await? == 0 {
            return Err(IdentityError::NotFound("session"));
        }
        AuditEntry::new(principal, "SESSION_REVOKE", "sessions", Some(to_api(id))).write(conn).await?;
        Ok(())
    })
    .await?;
    Ok(RevokeSessionResponse {})
}
