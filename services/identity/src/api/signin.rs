//! SignIn and SignOut. An unknown address, a wrong password and an
//! unverified address give one answer in about the same time (a dummy hash
//! is verified for unknown addresses); failures are recorded for the
//! throttle in their own transaction with a LOGIN_FAILED audit entry.

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::identity::v1::{SignInRequest, SignInResponse, SignOutResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use uuid::Uuid;

use super::auth::AuthApi;
use super::convert::{self, timestamp};
use super::support::{check_throttle, open_session, verify_password, violation};
use crate::domain::email::Email;
use crate::domain::password_policy::check_presented;
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
    let email = Email::parse("email", &email).map_err(violation)?;
    check_presented("password", &password)?;
    let ip = principal.client_ip.as_deref();
    let mut conn = api.context.pool.get().await?;
    check_throttle(&mut conn, Some(email.as_str()), ip).await?;
    let user = users::by_email(&mut conn, email.as_str()).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matched = verify_password(password, stored).await?;
    let user = match user {
        Some(user) if matched && user.email_verified.is_some() => user,
        other => {
            record_failure(&mut conn, principal, email.as_str(), other.map(|u| u.id)).await?;
            return Err(IdentityError::InvalidCredentials);
        }
    };
    if user.deleted_at.is_some() {
        return Err(IdentityError::AccountDeleted);
    }
    if !user.is_active {
        return Err(IdentityError::AccountDisabled);
    }
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

/// Records a failed password attempt and its audit entry.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    email: &str,
    user_id: Option<Uuid>,
) -> Result<(), IdentityError> {
    let ip = principal.client_ip.as_deref();
    conn.transaction(async |conn| {
        attempts::record(conn, Some(email), ip, false).await?;
        let mut entry = AuditEntry::new(principal, "LOGIN_FAILED", "users", user_id.map(to_api));
        entry.user_id = user_id.or(principal.user_id);
        entry.write(conn).await?;
        Ok::<_, IdentityError>(())
    })
    .await
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
