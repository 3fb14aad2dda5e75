//! ListSessions and RevokeSession. Page tokens are opaque: the keyset
//! position and the caller's id, signed with the service's key, so a
//! tampered or foreign token is refused (INVALID_ARGUMENT,
//! INVALID_PAGE_TOKEN).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;
use hmac::{Hmac, Mac};
use jazz_contract::jazz::identity::v1::{
    ListSessionsRequest, ListSessionsResponse, RevokeSessionRequest, RevokeSessionResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::{parse_id, to_api};
use secrecy::ExposeSecret as _;
use sha2::Sha256;
use uuid::Uuid;

use super::convert;
use super::user::UserApi;
use crate::error::IdentityError;
use crate::store::sessions;

fn mac(api: &UserApi, payload: &str) -> Option<Hmac<Sha256>> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(api.context.config.principal_secret.expose_secret().as_bytes()).ok()?;
    mac.update(b"identity.ListSessions:");
    mac.update(payload.as_bytes());
    Some(mac)
}

fn encode_token(api: &UserApi, user_id: Uuid, seen: DateTime<Utc>, id: Uuid) -> String {
    let payload = format!("{}.{}.{}", to_api(user_id), seen.timestamp_micros(), to_api(id));
    let signature = mac(api, &payload).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{payload}.{signature}"))
}

fn decode_token(api: &UserApi, user_id: Uuid, token: &str) -> Result<(DateTime<Utc>, Uuid), IdentityError> {
    let bad = || IdentityError::InvalidWithReason {
        field: "page_token",
        description: "is not a page token of this call".into(),
        reason: jazz_platform::error::Reason::InvalidPageToken,
    };
    let text = URL_SAFE_NO_PAD.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad)?;
    let (payload, signature) = text.rsplit_once('.').ok_or_else(bad)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| bad())?;
    mac(api, payload).ok_or_else(bad)?.verify_slice(&signature).map_err(|_| bad())?;
    let mut parts = payload.split('.');
    let (Some(owner), Some(micros), Some(id), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if parse_id("page_token", owner).ok() != Some(user_id) {
        return Err(bad());
    }
    let seen = micros.parse::<i64>().ok().and_then(DateTime::from_timestamp_micros).ok_or_else(bad)?;
    Ok((seen, parse_id("page_token", id).map_err(|_| bad())?))
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
    let more = rows.len() as i64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(0));
    let next_page_token = match rows.last() {
        Some(last) if more => encode_token(api, user_id, last.last_seen_at, last.id),
        _ => String::new(),
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
