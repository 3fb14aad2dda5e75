//! SignUp, VerifyEmail and RequestEmailVerification: the same answer for
//! new and registered addresses (decisions.md #7), one transaction per
//! change with its audit entry; mail is queued in the outbox
//! ([`crate::mail_outbox`]) and goes out once the relay is woken after the
//! commit.

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::{
    RequestEmailVerificationRequest, RequestEmailVerificationResponse, SignUpRequest, SignUpResponse,
    VerifyEmailRequest, VerifyEmailResponse,
};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, StoreError, Violations};
use jazz_platform::ids::to_api;
use jazz_platform::outbox::{self, events};

use super::auth::AuthApi;
use super::convert::{self, timestamp};
use super::support::{hash_password, open_session, request_id, violation};
use crate::domain::email::Email;
use crate::domain::fields;
use crate::domain::password_policy::NewPassword;
use crate::domain::token::hash_presented;
use crate::error::IdentityError;
use crate::mail::MailKind;
use crate::mail_outbox;
use crate::store::tokens::{self, Purpose};
use crate::store::users::{self, NewUser};

enum Outcome {
    Created,
    Existing,
}

/// How often a mail of one kind may go to one address.
const RESEND_INTERVAL: chrono::Duration = chrono::Duration::minutes(1);

/// SignUp: validates everything, hashes the password (for known addresses
/// too, so both take the same time), creates user + profile + audit +
/// outbox event + queued verification mail in one transaction. A known
/// address gets an "already registered" mail instead (at most one a minute).
pub async fn sign_up(
    api: &AuthApi,
    principal: &Principal,
    req: SignUpRequest,
) -> Result<SignUpResponse, IdentityError> {
    let SignUpRequest { email, password, first_name, last_name, username, timezone, locale, request_id: rid } = req;
    let mut v = Violations::new();
    let email = v.check(Email::parse("email", &email));
    let first_name = v.check(fields::name("first_name", &first_name, 100));
    let last_name = v.check(fields::name("last_name", &last_name, 100));
    let username = v.check(fields::username("username", &username));
    let timezone = v.check(fields::timezone("timezone", &timezone));
    let locale = v.check(fields::locale("locale", &locale));
    v.check(request_id("request_id", &rid));
    let password = match (v.finish(), NewPassword::parse("password", &password)) {
        (Ok(()), Ok(password)) => password,
        (Ok(()), Err(error)) => return Err(error),
        (Err(mut found), Err(IdentityError::InvalidWithReason { field, description, .. })) => {
            found.push(FieldViolation::new(field, description));
            return Err(IdentityError::Invalid(found));
        }
        (Err(mut found), Err(IdentityError::Invalid(more))) => {
            found.extend(more);
            return Err(IdentityError::Invalid(found));
        }
        (Err(found), _) => return Err(IdentityError::Invalid(found)),
    };
    let (Some(email), Some(first_name), Some(last_name), Some(username), Some(timezone), Some(locale)) =
        (email, first_name, last_name, username, timezone, locale)
    else {
        return Err(violation(FieldViolation::new("email", "is required")));
    };
    let password_hash = hash_password(password.expose().to_owned()).await?;

    let mut conn = api.context.pool.get().await?;
    let new_user = NewUser {
        id: jazz_platform::ids::new_id(),
        email: email.as_str(),
        first_name: &first_name,
        last_name: &last_name,
        username: username.as_deref(),
        timezone: &timezone,
        locale: &locale,
        password_hash: Some(&password_hash),
    };
    let result = conn
        .transaction(async |conn| {
            if let Some(name) = &username
                && users::username_taken(conn, name, None).await?
            {
                return Err(IdentityError::UsernameTaken);
            }
            if users::by_email(conn, email.as_str()).await?.is_some() {
                return Ok(Outcome::Existing);
            }
            let user = users::insert_with_profile(conn, &new_user).await?;
            mail_outbox::queue(conn, user.id, MailKind::Verification).await?;
            AuditEntry::new(principal, "CREATE", "users", Some(to_api(user.id)))
                .by_user(user.id)
                .with_change(None, Some(user.audit_json()))
                .write(conn)
                .await?;
            let payload = serde_json::json!({ "user_id": to_api(user.id), "locale": user.locale });
            outbox::enqueue(conn, events::USER_CREATED, &to_api(user.id), payload).await?;
            Ok(Outcome::Created)
        })
        .await;
    let outcome = match result {
        // A concurrent sign-up with the same address won: same answer.
        Err(IdentityError::Store(StoreError::UniqueViolation(ref c))) if c == "idx_users_email" => Outcome::Existing,
        Err(IdentityError::Store(StoreError::UniqueViolation(ref c))) if c == "idx_users_username" => {
            return Err(IdentityError::UsernameTaken);
        }
        other => other?,
    };
    if let Outcome::Existing = outcome
        && let Some(user) = users::by_email(&mut conn, email.as_str()).await?
    {
        let since = Utc::now() - RESEND_INTERVAL;
        if !mail_outbox::queued_since(&mut conn, user.id, MailKind::AlreadyRegistered, since).await? {
            mail_outbox::queue(&mut conn, user.id, MailKind::AlreadyRegistered).await?;
        }
    }
    api.relay.wake();
    Ok(SignUpResponse {})
}

/// VerifyEmail: consumes the token atomically, marks the address verified
/// and opens a session, all in one transaction.
pub async fn verify_email(
    api: &AuthApi,
    principal: &Principal,
    req: VerifyEmailRequest,
) -> Result<VerifyEmailResponse, IdentityError> {
    let VerifyEmailRequest { token } = req;
    let hash = hash_presented(&token).ok_or_else(IdentityError::token_invalid)?;
    let mut conn = api.context.pool.get().await?;
    let (token, session, user) = conn
        .transaction(async |conn| {
            let (_, user_id) = tokens::consume(conn, &hash, Purpose::EmailVerification)
                .await?
                .ok_or_else(IdentityError::token_invalid)?;
            let before = users::by_id(conn, user_id).await?.ok_or_else(IdentityError::token_invalid)?;
            if before.deleted_at.is_some() {
                return Err(IdentityError::token_invalid());
            }
            if !before.is_active {
                return Err(IdentityError::AccountDisabled);
            }
            users::mark_verified(conn, user_id).await?;
            let user = users::touch_login(conn, user_id).await?;
            AuditEntry::new(principal, "EMAIL_VERIFY", "users", Some(to_api(user_id)))
                .by_user(user_id)
                .with_change(Some(before.audit_json()), Some(user.audit_json()))
                .write(conn)
                .await?;
            let (token, session) = open_session(conn, user_id, principal, "email_verification").await?;
            Ok((token, session, user))
        })
        .await?;
    Ok(VerifyEmailResponse {
        session_token: token,
        expires_at: Some(timestamp(session.expires)),
        user: Some(convert::user(&user)),
    })
}

/// RequestEmailVerification: a fresh link for an unverified account (the
/// caller's own when signed in), at most one a minute; always OK for a
/// well-formed request.
pub async fn request_email_verification(
    api: &AuthApi,
    principal: &Principal,
    req: RequestEmailVerificationRequest,
) -> Result<RequestEmailVerificationResponse, IdentityError> {
    let RequestEmailVerificationRequest { email } = req;
    let mut conn = api.context.pool.get().await?;
    let user = match principal.user_id {
        Some(user_id) => users::by_id(&mut conn, user_id).await?,
        None => {
            let email = Email::parse("email", &email).map_err(violation)?;
            users::by_email(&mut conn, email.as_str()).await?
        }
    };
    let Some(user) = user.filter(|u| u.is_live() && u.email_verified.is_none()) else {
        return Ok(RequestEmailVerificationResponse {});
    };
    let since = Utc::now() - RESEND_INTERVAL;
    conn.transaction(async |conn| {
        if mail_outbox::queued_since(conn, user.id, MailKind::Verification, since).await? {
            return Ok(());
        }
        mail_outbox::queue(conn, user.id, MailKind::Verification).await?;
        AuditEntry::new(principal, "EMAIL_VERIFY_REQUEST", "users", Some(to_api(user.id)))
            .by_user(user.id)
            .write(conn)
            .await?;
        Ok::<_, IdentityError>(())
    })
    .await?;
    api.relay.wake();
    Ok(RequestEmailVerificationResponse {})
}
