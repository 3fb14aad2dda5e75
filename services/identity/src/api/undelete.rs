//! UndeleteMe: a fresh sign-in with email and password that also restores a
//! deleted account inside the retention window. A wrong password, an
//! unknown address and an account past its window answer alike
//! (INVALID_CREDENTIALS); only the right password learns NOT_DELETED.

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{UndeleteMeRequest, UndeleteMeResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use jazz_platform::outbox;

use super::convert::{self, timestamp};
use super::support::{open_session, password_account};
use super::user::UserApi;
use crate::domain::RETENTION;
use crate::error::IdentityError;
use crate::store::{attempts, users};
use jazz_platform::outbox::events::USER_UNDELETED;

/// UndeleteMe.
pub async fn undelete(
    api: &UserApi,
    principal: &Principal,
    req: UndeleteMeRequest,
) -> Result<UndeleteMeResponse, IdentityError> {
    let UndeleteMeRequest { email, password } = req;
    let (email, user) = password_account(&api.context.pool, principal, &email, password).await?;
    let ip = principal.client_ip.as_deref();
    let window_start = Utc::now() - RETENTION;
    match user.deleted_at {
        None => return Err(IdentityError::NotDeleted),
        // Past the window the account is as good as gone (the purge is due).
        Some(at) if at <= window_start => return Err(IdentityError::InvalidCredentials),
        Some(_) => {}
    }
    if !user.is_active {
        return Err(IdentityError::AccountDisabled);
    }
    let mut conn = api.context.pool.get().await?;
    let (token, session, restored) = conn
        .transaction(async |conn| {
            // The purge may have taken the row since the check: then no row.
            let restored =
                users::undelete(conn, user.id, window_start).await?.ok_or(IdentityError::InvalidCredentials)?;
            attempts::record(conn, Some(email.as_str()), ip, true).await?;
            AuditEntry::new(principal, "UNDELETE", "users", Some(to_api(user.id)))
                .by_user(user.id)
                .with_change(Some(user.audit_json()), Some(restored.audit_json()))
                .write(conn)
                .await?;
            let user_id = to_api(user.id);
            outbox::enqueue(conn, USER_UNDELETED, &user_id, serde_json::json!({ "user_id": user_id })).await?;
            let (token, session) = open_session(conn, user.id, principal, "undelete").await?;
            Ok::<_, IdentityError>((token, session, restored))
        })
        .await?;
    Ok(UndeleteMeResponse {
        session_token: token,
        expires_at: Some(timestamp(session.expires)),
        user: Some(convert::user(&restored)),
    })
}
