//! The error pattern every service follows, and the pieces it is built from.
//!
//! Each service has one `thiserror` enum and maps it to [`tonic::Status`] in
//! one `From` impl with every variant named. This module supplies what those
//! impls share: field violations that become a `google.rpc.BadRequest`,
//! stable reason codes in `google.rpc.ErrorInfo`, the classification of
//! database errors ([`StoreError`]), and [`internal`], which logs the whole
//! error and answers only an error id — no SQL, path or panic text ever
//! reaches a client.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One problem with one request field, for a `BadRequest` detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, e.g. `profile.skill_level`.
    pub field: String,
    /// What is wrong, in words a client developer can act on.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// Collects every field violation of a request, so a client learns all of
/// them in one round trip.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `result`'s violation, if any, and passes its value on.
    pub fn check<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    /// Records a violation directly.
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// `Ok(())` when nothing was recorded, else every violation.
    pub fn finish(self) -> Result<(), Vec<FieldViolation>> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0) }
    }
}

/// INVALID_ARGUMENT with a `BadRequest` detail naming every field.
pub fn invalid_argument(violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    let message = match violations {
        [one] => format!("invalid {}: {}", one.field, one.description),
        _ => format!("{} invalid fields", violations.len()),
    };
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// The stable, machine-readable reasons of `google.rpc.ErrorInfo` that the
/// services answer (the proto files and `docs/api.md` document each). A
/// client matches on the code, never on the message, so a code once
/// released never changes; new ones are added here (the enum is
/// `#[non_exhaustive]` so matching crates keep compiling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Right password, but the account is soft-deleted.
    AccountDeleted,
    /// The account was deactivated.
    AccountDisabled,
    /// The provider account is linked to another user.
    AccountAlreadyLinked,
    /// SaveContent of an item saved before.
    AlreadySaved,
    /// StartCheckout while a paid subscription is in force.
    AlreadySubscribed,
    /// A quota grant's idempotency key reused for other arguments.
    IdempotencyKeyReused,
    /// Unknown email, wrong password or unverified email.
    InvalidCredentials,
    /// A page token this server did not issue for this call, caller and
    /// filter (tampered, forged or foreign).
    InvalidPageToken,
    /// The account's only sign-in method.
    LastSignInMethod,
    /// A request body that could not be decoded (see `crate::malformed`).
    MalformedRequest,
    /// OpenBillingPortal before any checkout.
    NoBillingAccount,
    /// Cancel/resume without a paid subscription.
    NoPaidSubscription,
    /// The account has no password.
    NoPassword,
    /// Undelete of something that is not deleted.
    NotDeleted,
    /// No subscription for the caller.
    NoSubscription,
    /// A new password equal to the old one.
    PasswordUnchanged,
    /// A new password that is too common.
    PasswordTooCommon,
    /// A password longer than the policy allows.
    PasswordTooLong,
    /// A new password shorter than the policy allows.
    PasswordTooShort,
    /// Payments are not configured on this server.
    PaymentsUnavailable,
    /// The payment provider refused the request.
    PaymentProviderRefused,
    /// The payment provider could not be reached.
    PaymentProviderUnavailable,
    /// The caller's plan lacks the feature.
    PlanRequired,
    /// The identity provider did not accept the tokens.
    ProviderTokenInvalid,
    /// The period's quota is used up.
    QuotaExceeded,
    /// A `request_id` used before with different arguments.
    RequestIdReused,
    /// The practice session has ended.
    SessionEnded,
    /// A Stripe webhook body that is not a Stripe event.
    StripePayloadInvalid,
    /// A Stripe webhook whose signature does not verify.
    StripeSignatureInvalid,
    /// An unusable one-time token (link).
    TokenInvalid,
    /// Too many failed attempts.
    TooManyAttempts,
    /// The username belongs to someone else.
    UsernameTaken,
}

impl Reason {
    /// The code as it appears in `ErrorInfo.reason` (SCREAMING_SNAKE_CASE).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountDeleted => "ACCOUNT_DELETED",
            Self::AccountDisabled => "ACCOUNT_DISABLED",
            Self::AccountAlreadyLinked => "ACCOUNT_ALREADY_LINKED",
            Self::AlreadySaved => "ALREADY_SAVED",
            Self::AlreadySubscribed => "ALREADY_SUBSCRIBED",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::InvalidPageToken => "INVALID_PAGE_TOKEN",
            Self::LastSignInMethod => "LAST_SIGN_IN_METHOD",
            Self::MalformedRequest => "MALFORMED_REQUEST",
            Self::NoBillingAccount => "NO_BILLING_ACCOUNT",
            Self::NoPaidSubscription => "NO_PAID_SUBSCRIPTION",
            Self::NoPassword => "NO_PASSWORD",
            Self::NotDeleted => "NOT_DELETED",
            Self::NoSubscription => "NO_SUBSCRIPTION",
            Self::PasswordUnchanged => "PASSWORD_UNCHANGED",
            Self::PasswordTooCommon => "PASSWORD_TOO_COMMON",
            Self::PasswordTooLong => "PASSWORD_TOO_LONG",
            Self::PasswordTooShort => "PASSWORD_TOO_SHORT",
            Self::PaymentsUnavailable => "PAYMENTS_UNAVAILABLE",
            Self::PaymentProviderRefused => "PAYMENT_PROVIDER_REFUSED",
            Self::PaymentProviderUnavailable => "PAYMENT_PROVIDER_UNAVAILABLE",
            Self::PlanRequired => "PLAN_REQUIRED",
            Self::ProviderTokenInvalid => "PROVIDER_TOKEN_INVALID",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::RequestIdReused => "REQUEST_ID_REUSED",
            Self::SessionEnded => "SESSION_ENDED",
            Self::StripePayloadInvalid => "STRIPE_PAYLOAD_INVALID",
            Self::StripeSignatureInvalid => "STRIPE_SIGNATURE_INVALID",
            Self::TokenInvalid => "TOKEN_INVALID",
            Self::TooManyAttempts => "TOO_MANY_ATTEMPTS",
            Self::UsernameTaken => "USERNAME_TAKEN",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status with a stable, machine-readable reason in an `ErrorInfo` detail
/// (`domain` is the service, e.g. `identity.jazz`).
pub fn with_reason(code: Code, message: impl Into<String>, reason: Reason, domain: &str) -> Status {
    let details = ErrorDetails::with_error_info(reason.as_str(), domain, std::collections::HashMap::new());
    Status::with_error_details(code, message, details)
}

/// INVALID_ARGUMENT for one field that broke a rule with its own reason:
/// a `BadRequest` naming the field and an `ErrorInfo` with the reason.
pub fn field_with_reason(field: &str, description: &str, reason: Reason, domain: &str) -> Status {
    let mut details = ErrorDetails::with_bad_request_violation(field, description);
    details.set_error_info(reason.as_str(), domain, std::collections::HashMap::new());
    Status::with_error_details(Code::InvalidArgument, format!("invalid {field}: {description}"), details)
}

/// INVALID_ARGUMENT, reason INVALID_PAGE_TOKEN, naming `page_token`: the
/// one answer of every service to a tampered, forged or foreign token.
pub fn invalid_page_token(domain: &str) -> Status {
    field_with_reason("page_token", "is not a page token of this call", Reason::InvalidPageToken, domain)
}

/// INVALID_ARGUMENT, reason REQUEST_ID_REUSED, naming `request_id`: the one
/// answer of every service to a `request_id` reused with other arguments.
pub fn request_id_reused(domain: &str) -> Status {
    field_with_reason("request_id", "was used before with different arguments", Reason::RequestIdReused, domain)
}

/// ABORTED for a call whose concurrent duplicate (same `request_id`)
/// completed first: retrying answers that duplicate's stored response.
pub fn duplicate_request() -> Status {
    Status::aborted("a concurrent call with the same request_id completed first; retry the call")
}

/// INTERNAL that says only an error id; the error itself goes to the log
/// with the same id so an operator can find it.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    let error_id = ulid::Ulid::generate();
    tracing::error!(%error_id, error = %error, source = ?error.source(), "internal error");
    Status::internal(format!("internal error (id {error_id})"))
}

/// What went wrong talking to the database, in the terms a handler needs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the constraint's name.
    #[error("unique violation on {0}")]
    UniqueViolation(String),
    /// A CHECK or foreign-key constraint refused the write (the API should
    /// have caught it first); the constraint's name.
    #[error("constraint violation on {0}")]
    ConstraintViolation(String),
    /// A serializable transaction lost a race; the caller may retry.
    #[error("serialization failure")]
    SerializationFailure,
    /// No connection could be had, or it broke.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an unexpected state.
    #[error(transparent)]
    Other(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match error {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(Kind::UniqueViolation, info) => {
                Self::UniqueViolation(info.constraint_name().unwrap_or("unknown").to_owned())
            }
            Error::DatabaseError(Kind::CheckViolation | Kind::ForeignKeyViolation | Kind::NotNullViolation, info) => {
                Self::ConstraintViolation(info.constraint_name().unwrap_or("unknown").to_owned())
            }
            Error::DatabaseError(Kind::SerializationFailure, _) => Self::SerializationFailure,
            // UnableToSendCommand: the connection broke under a query
            // (diesel-async's "connection closed" when the server restarts).
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _)
            | Error::BrokenTransactionManager => Self::Unavailable(error.to_string()),
            other => Self::Other(other),
        }
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for StoreError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<StoreError> for Status {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Status::not_found("not found"),
            StoreError::UniqueViolation(_) => Status::already_exists("already exists"),
            StoreError::ConstraintViolation(ref constraint) => {
                Status::invalid_argument(format!("value refused by rule {constraint}"))
            }
            StoreError::SerializationFailure => Status::aborted("concurrent update; retry the call"),
            StoreError::Unavailable(ref reason) => {
                tracing::warn!(%reason, "database unavailable");
                Status::unavailable("service temporarily unavailable; retry the call")
            }
            StoreError::Other(ref inner) => internal(inner),
        }
    }
}

/// Implements the conversions every service's error enum shares, for an
/// enum with the variants `Invalid(Vec<FieldViolation>)` and
/// `Store(StoreError)`: `From` diesel's errors and the pool's (through
/// [`StoreError`]), `From<FieldViolation>`, and `field(name, description)`
/// for one violation without a reason code.
#[macro_export]
macro_rules! service_error {
    ($error:ident) => {
        impl From<diesel::result::Error> for $error {
            fn from(error: diesel::result::Error) -> Self {
                Self::Store($crate::error::StoreError::from(error))
            }
        }

        impl From<diesel_async::pooled_connection::deadpool::PoolError> for $error {
            fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
                Self::Store($crate::error::StoreError::from(error))
            }
        }

        impl From<$crate::error::FieldViolation> for $error {
            fn from(violation: $crate::error::FieldViolation) -> Self {
                Self::Invalid(vec![violation])
            }
        }

        impl $error {
            /// One field violation without a reason code.
            pub fn field(field: &str, description: impl Into<String>) -> Self {
                Self::Invalid(vec![$crate::error::FieldViolation::new(field, description)])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn invalid_argument_names_every_field() {
        let status =
            invalid_argument(&[FieldViolation::new("email", "is required"), FieldViolation::new("tempo", "too fast")]);
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status.get_details_bad_request().map(|b| b.field_violations);
        let fields: Vec<String> = bad_request.unwrap_or_default().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["email", "tempo"]);
    }

    #[test]
    fn internal_hides_the_cause() {
        let cause = std::io::Error::other("SELECT secret FROM users at /srv/app.rs:12");
        let status = internal(&cause);
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("SELECT"));
        assert!(status.message().starts_with("internal error (id "));
    }

    #[test]
    fn a_connection_lost_mid_query_is_unavailable() {
        // What diesel-async reports when PostgreSQL goes away under a query
        // (`make chaos`, `pg_ctl restart -m immediate`): no SQLSTATE, so
        // "unable to send command", not "closed connection".
        let lost = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            Box::new("connection closed".to_owned()),
        );
        assert_eq!(Status::from(StoreError::from(lost)).code(), Code::Unavailable);
    }

    #[test]
    fn reasons_are_screaming_snake_and_named_fields_carry_them() {
        assert_eq!(Reason::RequestIdReused.as_str(), "REQUEST_ID_REUSED");
        assert_eq!(Reason::PasswordTooShort.to_string(), "PASSWORD_TOO_SHORT");
        let status = request_id_reused("x.jazz");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.get_details_error_info().map(|i| i.reason), Some("REQUEST_ID_REUSED".into()));
        let fields = status.get_details_bad_request().map(|b| b.field_violations).unwrap_or_default();
        assert_eq!(fields.first().map(|v| v.field.as_str()), Some("request_id"));
        let page = invalid_page_token("x.jazz");
        assert_eq!(page.get_details_error_info().map(|i| i.reason), Some("INVALID_PAGE_TOKEN".into()));
    }

    #[test]
    fn store_errors_map_to_their_codes() {
        let cases = [
            (StoreError::NotFound, Code::NotFound),
            (StoreError::UniqueViolation("users_email_key".into()), Code::AlreadyExists),
            (StoreError::SerializationFailure, Code::Aborted),
            (StoreError::Unavailable("pool timed out".into()), Code::Unavailable),
            (StoreError::Other(diesel::result::Error::RollbackTransaction), Code::Internal),
        ];
        for (error, code) in cases {
            assert_eq!(Status::from(error).code(), code);
        }
    }
}
