//! SignIn and SignOut. An unknown address, a wrong password and an
//! unverified address give one answer in about the same time (a dummy hash
//! is verified for unknown addresses); failures are recorded for the
//! throttle in their own transaction with a LOGIN_FAILED audit entry.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{SignInRequest, SignInResponse, SignOutResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use uuid::Uuid;

use super::auth::AuthApi;
use super::convert::{self, timestamp};
use super::support::{open_session, password_account};
use crate::error::IdentityError;
use crate::store::models::UserRow;
use crate::store::{attempts, sessions, users};

/// SignIn with email and password.
pub async fn sign_in(
    api: &AuthApi,
    principal: &Principal,
    req: SignInRequest,
) -> Result<SignInResponse, IdentityError> {
    let SignInRequest { email, password } = req;
    let (email, user) = password_account(&api.context.pool, principal, &email, password).await?;
    let ip = principal.client_ip.as_deref();
    if user.deleted_at.is_some() {
        return Err(IdentityError::AccountDeleted);
    }
    if !user.is_active {
        return Err(IdentityError::AccountDisabled);
    }
    let mut conn = api.context.pool.get().await?;
    let (token, session, user) = conn
        .transaction(async |conn| {
            attempts::record(conn, Some(email.as_str()), ip, true).await?;
            let user: UserRow = users::touch_login(conn, user.id).await?;
            let (token, session) = open_session(conn, user.id, principal, "password").await?;
            Ok::<_, IdentityError>((token, session, user))
        })
        .await?;
    Ok(SignInResponse {
        session_token: token,
        expires_at: Some(timestamp(session.expires)),
        user: Some(convert::user(&user)),
    })
}

/// SignOut: revokes the calling session.
pub async fn sign_out(
    api: &AuthApi,
    principal: &Principal,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<SignOutResponse, IdentityError> {
    let mut conn = api.context.pool.get().await?;
    conn.transaction(async |conn| {
        if sessions::revoke(conn, user_id, session_id).await? == 0 {
            return Err(IdentityError::SessionInvalid);
        }
        AuditEntry::new(principal, "LOGOUT", "sessions", Some(to_api(session_id))).write(conn).await?;
        Ok(())
    })
    .await?;
    Ok(SignOutResponse {})
}
