//! ChangePassword, RequestPasswordReset/ResetPassword and
//! RequestMagicLink/SignInWithMagicLink. A password change or reset
//! revokes the other (for a reset: all) sessions in the same transaction.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{
    ChangePasswordRequest, ChangePasswordResponse, ResetPasswordRequest, ResetPasswordResponse,
    SignInWithMagicLinkRequest, SignInWithMagicLinkResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use uuid::Uuid;

use super::auth::AuthApi;
use super::convert::{self, timestamp};
use super::support::record_failure;
use super::support::{check_throttle, hash_password, open_session, verify_password, violation};
use crate::domain::email::Email;
use crate::domain::password_policy::{NewPassword, check_presented};
use crate::domain::token::hash_presented;
use crate::error::IdentityError;
use crate::mail::MailKind;
use crate::mail_outbox;
use crate::store::models::{SessionRow, UserRow};
use crate::store::tokens::{self, Purpose};
use crate::store::{sessions, users};
use jazz_platform::error::Reason;

/// RequestPasswordReset / RequestMagicLink: a mail with a link queued for
/// a live account, nothing for an unknown one; the same OK either way.
pub async fn request_link(
    api: &AuthApi,
    principal: &Principal,
    email: &str,
    purpose: Purpose,
) -> Result<(), IdentityError> {
    let email = Email::parse("email", email).map_err(violation)?;
    let mut conn = api.context.pool.get().await?;
    let Some(user) = users::by_email(&mut conn, email.as_str()).await?.filter(UserRow::is_live) else {
        return Ok(());
    };
    let (action, kind) = match purpose {
        Purpose::PasswordReset => ("PASSWORD_RESET_REQUEST", MailKind::PasswordReset),
        Purpose::MagicLink => ("MAGIC_LINK_REQUEST", MailKind::MagicLink),
        Purpose::EmailVerification => ("EMAIL_VERIFY_REQUEST", MailKind::Verification),
    };
    conn.transaction(async |conn| {
        mail_outbox::queue(conn, user.id, kind).await?;
        AuditEntry::new(principal, action, "users", Some(to_api(user.id))).by_user(user.id).write(conn).await?;
        Ok::<_, IdentityError>(())
    })
    .await?;
    api.relay.wake();
    Ok(())
}

/// Consumes a one-time token in `conn`'s transaction and returns the user it
/// belongs to, if that user may still sign in.
async fn redeem(
    conn: &mut diesel_async::AsyncPgConnection,
    hash: &str,
    purpose: Purpose,
) -> Result<UserRow, IdentityError> {
    let (_, user_id) = tokens::consume(conn, hash, purpose).await?.ok_or_else(IdentityError::token_invalid)?;
    let user = users::by_id(conn, user_id).await?.ok_or_else(IdentityError::token_invalid)?;
    if user.deleted_at.is_some() {
        return Err(IdentityError::token_invalid());
    }
    if !user.is_active {
        return Err(IdentityError::AccountDisabled);
    }
    Ok(user)
}

/// ResetPassword: new password, address verified, every session revoked,
/// a new session returned.
pub async fn reset_password(
    api: &AuthApi,
    principal: &Principal,
    req: ResetPasswordRequest,
) -> Result<ResetPasswordResponse, IdentityError> {
    let ResetPasswordRequest { token, new_password } = req;
    let hash = hash_presented(&token).ok_or_else(IdentityError::token_invalid)?;
    let new_password = NewPassword::parse("new_password", &new_password)?;
    let phc = hash_password(new_password.expose().to_owned()).await?;
    let mut conn = api.context.pool.get().await?;
    let (token, session, user): (String, SessionRow, UserRow) = conn
        .transaction(async |conn| {
            let before = redeem(conn, &hash, Purpose::PasswordReset).await?;
            users::set_password(conn, before.id, &phc).await?;
            users::mark_verified(conn, before.id).await?;
            let revoked = sessions::revoke_all(conn, before.id, None).await?;
            let user = users::touch_login(conn, before.id).await?;
            AuditEntry::new(principal, "PASSWORD_RESET", "users", Some(to_api(user.id)))
                .by_user(user.id)
                .with_change(None, Some(serde_json::json!({ "revoked_sessions": revoked })))
                .write(conn)
                .await?;
            let (token, session) = open_session(conn, user.id, principal, "password_reset").await?;
            Ok::<_, IdentityError>((token, session, user))
        })
        .await?;
    Ok(ResetPasswordResponse {
        session_token: token,
        expires_at: Some(timestamp(session.expires)),
        user: Some(convert::user(&user)),
    })
}

/// SignInWithMagicLink: address verified, a new session returned.
pub async fn sign_in_with_magic_link(
    api: &AuthApi,
    principal: &Principal,
    req: SignInWithMagicLinkRequest,
) -> Result<SignInWithMagicLinkResponse, IdentityError> {
    let SignInWithMagicLinkRequest { token } = req;
    let hash = hash_presented(&token).ok_or_else(IdentityError::token_invalid)?;
    let mut conn = api.context.pool.get().await?;
    let (token, session, user) = conn
        .transaction(async |conn| {
            let before = redeem(conn, &hash, Purpose::MagicLink).await?;
            users::mark_verified(conn, before.id).await?;
            let user = users::touch_login(conn, before.id).await?;
            let (token, session) = open_session(conn, user.id, principal, "magic_link").await?;
            Ok::<_, IdentityError>((token, session, user))
        })
        .await?;
    Ok(SignInWithMagicLinkResponse {
        session_token: token,
        expires_at: Some(timestamp(session.expires)),
        user: Some(convert::user(&user)),
    })
}

/// ChangePassword: needs the current password (throttled like sign-in);
/// revokes every other session.
pub async fn change_password(
    api: &AuthApi,
    principal: &Principal,
    user_id: Uuid,
    req: ChangePasswordRequest,
) -> Result<ChangePasswordResponse, IdentityError> {
    let ChangePasswordRequest { current_password, new_password } = req;
    check_presented("current_password", &current_password)?;
    let new = NewPassword::parse("new_password", &new_password)?;
    if current_password == new_password {
        return Err(IdentityError::InvalidWithReason {
            field: "new_password",
            description: "must differ from the current password".into(),
            reason: Reason::PasswordUnchanged,
        });
    }
    let mut conn = api.context.pool.get().await?;
    let user = users::by_id(&mut conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)?;
    check_throttle(&mut conn, Some(&user.email), principal.client_ip.as_deref()).await?;
    let Some(stored) = user.password_hash.clone() else {
        return Err(IdentityError::NoPassword);
    };
    if !verify_password(current_password, Some(stored)).await? {
        record_failure(&mut conn, principal, &user.email, Some(user.id)).await?;
        return Err(IdentityError::InvalidWithReason {
            field: "current_password",
            description: "is not the account's password".into(),
            reason: Reason::InvalidCredentials,
        });
    }
    let phc = hash_password(new.expose().to_owned()).await?;
    let revoked = conn
        .transaction(async |conn| {
            users::set_password(conn, user.id, &phc).await?;
            let revoked = sessions::revoke_all(conn, user.id, principal.session_id).await?;
            AuditEntry::new(principal, "PASSWORD_CHANGE", "users", Some(to_api(user.id)))
                .with_change(None, Some(serde_json::json!({ "revoked_sessions": revoked })))
                .write(conn)
                .await?;
            Ok::<_, IdentityError>(revoked)
        })
        .await?;
    Ok(ChangePasswordResponse { revoked_session_count: i32::try_from(revoked).unwrap_or(i32::MAX) })
}
