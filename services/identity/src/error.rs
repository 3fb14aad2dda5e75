//! Identity's one error enum and its one mapping to [`tonic::Status`].
//!
//! Handlers return `Result<_, IdentityError>` from their inner logic and let
//! `?` turn it into a `Status`; every variant is named in the `From` impl, so
//! a new variant does not compile until it has a status code. Reasons are
//! the stable `ErrorInfo` codes the proto files document.

use std::collections::HashMap;
use std::time::Duration;

use jazz_platform::error::{
    FieldViolation, Reason, StoreError, duplicate_request, field_with_reason, internal, invalid_argument,
    invalid_page_token, request_id_reused, with_reason,
};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// The `ErrorInfo` domain of every identity error.
pub const DOMAIN: &str = "identity.jazz";

/// Everything an identity call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Request fields broke their rules (nothing was written).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// One field broke a rule that has its own stable reason code
    /// (PASSWORD_TOO_SHORT, TOKEN_INVALID, INVALID_CREDENTIALS, …).
    #[error("invalid {field}: {reason}")]
    InvalidWithReason {
        /// The request field.
        field: &'static str,
        /// Words a client developer can act on.
        description: String,
        /// The `ErrorInfo` reason.
        reason: Reason,
    },
    /// A page token this server did not issue for this call and filter.
    #[error("invalid page token")]
    InvalidPageToken,
    /// Unknown email, wrong password or unverified email: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Right password, but the account is soft-deleted.
    #[error("account deleted")]
    AccountDeleted,
    /// Right password (or token), but the account was deactivated.
    #[error("account disabled")]
    AccountDisabled,
    /// Too many failed attempts for the account or the client address.
    #[error("too many attempts")]
    TooManyAttempts {
        /// When the client may try again, at the latest.
        retry_after: Duration,
    },
    /// The chosen username belongs to someone else.
    #[error("username taken")]
    UsernameTaken,
    /// The session token (or the calling session) is unknown, expired,
    /// revoked, or belongs to a deleted or deactivated user.
    #[error("session invalid")]
    SessionInvalid,
    /// The record does not exist or is not the caller's (same answer).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// ChangePassword on an account that has no password.
    #[error("no password set")]
    NoPassword,
    /// LinkAccount: the provider is not configured, rejected the tokens, or
    /// could not be reached.
    #[error(transparent)]
    Provider(#[from] crate::oauth::VerifyError),
    /// LinkAccount: the provider account is linked to another user.
    #[error("provider account already linked")]
    AccountAlreadyLinked,
    /// UnlinkAccount: the account is the user's only way to sign in.
    #[error("last sign-in method")]
    LastSignInMethod,
    /// UndeleteMe on an account that is not deleted.
    #[error("account not deleted")]
    NotDeleted,
    /// A record with the same natural key exists (e.g. a flag's name).
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// A `request_id` used before with different arguments.
    #[error("request id reused with other arguments")]
    RequestIdReused,
    /// A concurrent call with the same `request_id` stored its answer first.
    #[error("duplicate request in flight")]
    DuplicateRequest,
    /// A stored replay answer that does not decode (never the caller's fault).
    #[error("bad stored data: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// GetUserAuditTrail: a service's audit log did not answer (the reason
    /// is logged, never returned).
    #[error("{service} audit log unavailable: {reason}")]
    PeerUnavailable {
        /// Which service.
        service: &'static str,
        /// What happened.
        reason: String,
    },
    /// GetUserAuditTrail: the caller's deadline left no time to finish.
    #[error("audit trail deadline passed")]
    TrailTimedOut,
    /// Too many password checks at once (a sign-in burst): refused at once,
    /// to be retried shortly.
    #[error("password checks busy")]
    Busy,
    /// Password hashing failed (never the caller's fault).
    #[error(transparent)]
    Hash(#[from] crate::domain::password::HashError),
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] crate::domain::token::RandomError),
    /// A blocking task panicked or was cancelled.
    #[error("blocking task failed: {0}")]
    Blocking(#[from] tokio::task::JoinError),
}

jazz_platform::replay_failure!(IdentityError);

jazz_platform::service_error!(IdentityError);

impl From<jazz_platform::page_token::InvalidPageToken> for IdentityError {
    fn from(_: jazz_platform::page_token::InvalidPageToken) -> Self {
        Self::InvalidPageToken
    }
}

impl IdentityError {
    /// The one answer for every unusable one-time token.
    pub fn token_invalid() -> Self {
        Self::InvalidWithReason {
            field: "token",
            description: "the link is invalid or has expired; request a new one".into(),
            reason: Reason::TokenInvalid,
        }
    }
}

impl From<IdentityError> for Status {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Invalid(violations) => invalid_argument(&violations),
            IdentityError::InvalidWithReason { field, description, reason } => {
                field_with_reason(field, &description, reason, DOMAIN)
            }
            IdentityError::InvalidPageToken => invalid_page_token(DOMAIN),
            IdentityError::InvalidCredentials => {
                with_reason(Code::Unauthenticated, "invalid email or password", Reason::InvalidCredentials, DOMAIN)
            }
            IdentityError::AccountDeleted => with_reason(
                Code::FailedPrecondition,
                "the account is deleted; restore it with UndeleteMe",
                Reason::AccountDeleted,
                DOMAIN,
            ),
            IdentityError::AccountDisabled => {
                with_reason(Code::PermissionDenied, "the account is disabled", Reason::AccountDisabled, DOMAIN)
            }
            IdentityError::TooManyAttempts { retry_after } => {
                let mut details = ErrorDetails::with_retry_info(Some(retry_after));
                details.set_error_info(Reason::TooManyAttempts.as_str(), DOMAIN, HashMap::new());
                let message = format!("too many failed attempts; retry in {} s", retry_after.as_secs());
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            IdentityError::Busy => {
                let details = ErrorDetails::with_retry_info(Some(Duration::from_secs(1)));
                Status::with_error_details(Code::Unavailable, "too many sign-ins at once; retry in a second", details)
            }
            IdentityError::UsernameTaken => {
                with_reason(Code::AlreadyExists, "the username is taken", Reason::UsernameTaken, DOMAIN)
            }
            IdentityError::SessionInvalid => Status::unauthenticated("the session is invalid or has ended"),
            IdentityError::NotFound(what) => Status::not_found(format!("{what} not found")),
            IdentityError::NoPassword => with_reason(
                Code::FailedPrecondition,
                "the account has no password; use RequestPasswordReset to set one",
                Reason::NoPassword,
                DOMAIN,
            ),
            IdentityError::Provider(crate::oauth::VerifyError::NotConfigured) => {
                invalid_argument(&[FieldViolation::new("provider", "this provider is not configured on the server")])
            }
            IdentityError::Provider(crate::oauth::VerifyError::Rejected) => {
                let description = "the provider did not accept the tokens; sign in with the provider again";
                field_with_reason("id_token", description, Reason::ProviderTokenInvalid, DOMAIN)
            }
            IdentityError::Provider(crate::oauth::VerifyError::IdTokenRequired) => {
                invalid_argument(&[FieldViolation::new(
                    "id_token",
                    "is required for this provider (sign in with its SDK and send the ID token)",
                )])
            }
            IdentityError::Provider(crate::oauth::VerifyError::Unavailable(ref reason)) => {
                tracing::warn!(%reason, "provider unavailable");
                Status::unavailable("the provider could not be reached; retry the call")
            }
            IdentityError::PeerUnavailable { service, ref reason } => {
                tracing::warn!(service, %reason, "audit trail incomplete");
                Status::unavailable(format!("the {service} audit log did not answer; retry the call"))
            }
            IdentityError::TrailTimedOut => {
                Status::unavailable("the audit logs did not all answer within the deadline; retry the call")
            }
            IdentityError::AccountAlreadyLinked => with_reason(
                Code::AlreadyExists,
                "that provider account is linked to another user",
                Reason::AccountAlreadyLinked,
                DOMAIN,
            ),
            IdentityError::LastSignInMethod => with_reason(
                Code::FailedPrecondition,
                "this account is the only way to sign in; set a password first",
                Reason::LastSignInMethod,
                DOMAIN,
            ),
            IdentityError::NotDeleted => with_reason(
                Code::FailedPrecondition,
                "the account is not deleted; sign in instead",
                Reason::NotDeleted,
                DOMAIN,
            ),
            IdentityError::AlreadyExists(what) => Status::already_exists(format!("{what} already exists")),
            IdentityError::RequestIdReused => request_id_reused(DOMAIN),
            IdentityError::DuplicateRequest => duplicate_request(),
            IdentityError::Corrupt(ref what) => internal(&std::io::Error::other(what.clone())),
            IdentityError::Store(store) => Status::from(store),
            IdentityError::Hash(ref hash) => internal(hash),
            IdentityError::Random(ref random) => internal(random),
            IdentityError::Blocking(ref join) => internal(join),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_codes_are_stable() {
        let cases = [
            (IdentityError::InvalidCredentials, Code::Unauthenticated),
            (IdentityError::AccountDeleted, Code::FailedPrecondition),
            (IdentityError::AccountDisabled, Code::PermissionDenied),
            (IdentityError::TooManyAttempts { retry_after: Duration::from_secs(60) }, Code::ResourceExhausted),
            (IdentityError::UsernameTaken, Code::AlreadyExists),
            (IdentityError::Busy, Code::Unavailable),
            (IdentityError::SessionInvalid, Code::Unauthenticated),
            (IdentityError::NotFound("session"), Code::NotFound),
            (IdentityError::NoPassword, Code::FailedPrecondition),
            (IdentityError::token_invalid(), Code::InvalidArgument),
            (IdentityError::AccountAlreadyLinked, Code::AlreadyExists),
            (IdentityError::LastSignInMethod, Code::FailedPrecondition),
            (IdentityError::NotDeleted, Code::FailedPrecondition),
            (IdentityError::AlreadyExists("flag"), Code::AlreadyExists),
            (IdentityError::RequestIdReused, Code::InvalidArgument),
            (IdentityError::InvalidPageToken, Code::InvalidArgument),
            (IdentityError::DuplicateRequest, Code::Aborted),
            (IdentityError::Provider(crate::oauth::VerifyError::NotConfigured), Code::InvalidArgument),
            (IdentityError::Provider(crate::oauth::VerifyError::Rejected), Code::InvalidArgument),
            (IdentityError::Provider(crate::oauth::VerifyError::IdTokenRequired), Code::InvalidArgument),
            (IdentityError::Provider(crate::oauth::VerifyError::Unavailable("x".into())), Code::Unavailable),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
        let throttled = Status::from(IdentityError::TooManyAttempts { retry_after: Duration::from_secs(90) });
        assert_eq!(throttled.get_details_retry_info().and_then(|r| r.retry_delay), Some(Duration::from_secs(90)));
    }
}
