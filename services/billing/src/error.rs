//! Billing's one error enum and its one mapping to [`tonic::Status`].
//!
//! Every variant is named in the `From` impl (no catch-all), so a new
//! variant does not compile until it has a status code. Reasons are the
//! stable `ErrorInfo` codes of `billing_internal.proto`, `billing.proto`
//! and `docs/api.md`.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use jazz_platform::error::{
    FieldViolation, Reason, StoreError, field_with_reason, internal, invalid_argument, invalid_page_token,
    request_id_reused, with_reason,
};
use jazz_platform::ids::to_api;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};
use uuid::Uuid;

use crate::domain::catalogue::CatalogueError;
use crate::domain::tier::Tier;
use crate::stripe::StripeError;
use crate::stripe::event::PayloadError;
use crate::stripe::signature::SignatureError;

/// The `ErrorInfo` domain of every billing error.
pub const DOMAIN: &str = "billing.jazz";

/// Everything a billing call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// Request fields broke their rules (nothing was written).
    #[error("invalid request: {0:?}")]
    Invalid(Vec<FieldViolation>),
    /// A page token that this server did not issue for these arguments.
    #[error("invalid page token")]
    InvalidPageToken,
    /// The idempotency key was first used for another feature or quantity.
    #[error("idempotency key reused with other arguments")]
    KeyReused,
    /// The grant would go over the period's limit.
    #[error("quota exceeded for {feature}")]
    QuotaExceeded {
        /// The user charged.
        user_id: Uuid,
        /// The feature.
        feature: String,
        /// The period's limit.
        limit: i64,
        /// Units used this period before the call.
        used: i64,
        /// When the period ends and the count resets.
        period_end: DateTime<Utc>,
    },
    /// The user's effective tier lacks the feature.
    #[error("{feature} is not included in {tier:?}")]
    FeatureNotIncluded {
        /// The user charged.
        user_id: Uuid,
        /// The feature.
        feature: String,
        /// The effective tier.
        tier: Tier,
    },
    /// Cancel/resume on FREE or on an ended paid subscription.
    #[error("no paid subscription")]
    NoPaidSubscription,
    /// The user has no subscription (internal reads).
    #[error("subscription not found")]
    SubscriptionNotFound,
    /// No grant with that key for that user.
    #[error("grant not found")]
    GrantNotFound,
    /// The stored catalogue or a stored row is not what the code expects
    /// (never the caller's fault).
    #[error("bad stored data: {0}")]
    Catalogue(#[from] CatalogueError),
    /// The plan of a tier is missing from the catalogue (seed not loaded).
    #[error("no plan for tier {0:?}; run `billing seed`")]
    PlanMissing(Tier),
    /// Period arithmetic left chrono's range (a corrupt stored date).
    #[error("billing period out of range")]
    PeriodOutOfRange,
    /// StartCheckout while a paid subscription is in force.
    #[error("already subscribed")]
    AlreadySubscribed,
    /// OpenBillingPortal before any checkout.
    #[error("no billing account")]
    NoBillingAccount,
    /// A `request_id` first used with other arguments.
    #[error("request_id reused with other arguments")]
    RequestIdReused,
    /// A Stripe call failed.
    #[error(transparent)]
    Stripe(#[from] StripeError),
    /// A webhook whose signature does not verify (never logged with it).
    #[error("webhook signature refused: {0}")]
    SignatureInvalid(#[from] SignatureError),
    /// A verified webhook body that is not a Stripe event.
    #[error(transparent)]
    PayloadInvalid(#[from] PayloadError),
    /// No webhook secret configured: nothing can be verified.
    #[error("STRIPE_WEBHOOK_SECRET is not configured")]
    WebhookNotConfigured,
    /// A Stripe subscription was linked to a user while the user was being
    /// purged (after the cancellations at Stripe): the purge must run again.
    #[error("subscription linked during the purge")]
    PurgeRaced,
    /// A stored replay answer that does not decode.
    #[error("stored answer unreadable: {0}")]
    Corrupt(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

jazz_platform::service_error!(BillingError);

impl From<jazz_platform::page_token::InvalidPageToken> for BillingError {
    fn from(_: jazz_platform::page_token::InvalidPageToken) -> Self {
        Self::InvalidPageToken
    }
}

fn quota_status(message: String, user_id: Uuid, reason: Reason, metadata: HashMap<String, String>) -> Status {
    let mut details = ErrorDetails::with_quota_failure_violation(format!("user:{}", to_api(user_id)), message.clone());
    details.set_error_info(reason.as_str(), DOMAIN, metadata);
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

impl From<BillingError> for Status {
    fn from(error: BillingError) -> Self {
        match error {
            BillingError::Invalid(violations) => invalid_argument(&violations),
            BillingError::InvalidPageToken => invalid_page_token(DOMAIN),
            BillingError::KeyReused => field_with_reason(
                "idempotency_key",
                "was used before for another feature or quantity",
                Reason::IdempotencyKeyReused,
                DOMAIN,
            ),
            BillingError::QuotaExceeded { user_id, feature, limit, used, period_end } => {
                let period_end = period_end.to_rfc3339_opts(SecondsFormat::Secs, true);
                let message = format!("quota for {feature} used up: limit {limit} per period, resets at {period_end}");
                let metadata = HashMap::from([
                    ("feature".to_owned(), feature),
                    ("limit".to_owned(), limit.to_string()),
                    ("used".to_owned(), used.to_string()),
                    ("period_end".to_owned(), period_end),
                ]);
                quota_status(message, user_id, Reason::QuotaExceeded, metadata)
            }
            BillingError::FeatureNotIncluded { user_id: _, feature, tier } => {
                // Not a quota to wait out: the plan itself must change.
                let message = format!("{feature} is not included in the {} plan; upgrade to use it", tier.as_str());
                let metadata =
                    HashMap::from([("feature".to_owned(), feature), ("tier".to_owned(), tier.as_str().to_owned())]);
                let details = ErrorDetails::with_error_info(Reason::PlanRequired.as_str(), DOMAIN, metadata);
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            BillingError::NoPaidSubscription => with_reason(
                Code::FailedPrecondition,
                "there is no paid subscription to cancel or resume",
                Reason::NoPaidSubscription,
                DOMAIN,
            ),
            BillingError::SubscriptionNotFound => Status::not_found("subscription not found"),
            BillingError::GrantNotFound => Status::not_found("no grant with that idempotency key"),
            BillingError::Catalogue(ref inner) => internal(inner),
            BillingError::PlanMissing(_) => internal(&error),
            BillingError::PeriodOutOfRange => internal(&error),
            BillingError::AlreadySubscribed => with_reason(
                Code::FailedPrecondition,
                "a paid subscription is already in force; change plans in the billing portal",
                Reason::AlreadySubscribed,
                DOMAIN,
            ),
            BillingError::NoBillingAccount => with_reason(
                Code::FailedPrecondition,
                "there is no billing account yet; start a checkout first",
                Reason::NoBillingAccount,
                DOMAIN,
            ),
            BillingError::RequestIdReused => request_id_reused(DOMAIN),
            BillingError::Stripe(stripe) => stripe_status(stripe),
            BillingError::SignatureInvalid(reason) => {
                // The reason is logged, not answered: a prober learns nothing.
                tracing::warn!(%reason, "stripe webhook refused");
                with_reason(Code::InvalidArgument, "invalid Stripe signature", Reason::StripeSignatureInvalid, DOMAIN)
            }
            BillingError::PayloadInvalid(reason) => {
                tracing::warn!(%reason, "stripe webhook refused");
                with_reason(Code::InvalidArgument, "not a Stripe event", Reason::StripePayloadInvalid, DOMAIN)
            }
            BillingError::WebhookNotConfigured => {
                tracing::error!("stripe webhook received but STRIPE_WEBHOOK_SECRET is not set");
                Status::unavailable("webhooks are not configured")
            }
            BillingError::PurgeRaced => Status::aborted("a subscription changed during the purge; retry"),
            BillingError::Corrupt(_) => internal(&error),
            BillingError::Store(store) => Status::from(store),
        }
    }
}

/// A failed Stripe call: never Stripe's own text, which is only logged.
fn stripe_status(error: StripeError) -> Status {
    let unavailable = "the payment provider is unavailable; retry with the same request_id";
    match error {
        StripeError::NotConfigured => {
            tracing::error!("a Stripe call was needed but STRIPE_SECRET_KEY is not set");
            with_reason(Code::Unavailable, "payments are not available", Reason::PaymentsUnavailable, DOMAIN)
        }
        StripeError::Unavailable(ref reason) => {
            tracing::warn!(%reason, "stripe unavailable");
            with_reason(Code::Unavailable, unavailable, Reason::PaymentProviderUnavailable, DOMAIN)
        }
        StripeError::Conflict => Status::aborted("a concurrent request is in progress; retry"),
        StripeError::Refused { status, ref code } => {
            tracing::warn!(status, %code, "stripe refused a request");
            with_reason(
                Code::FailedPrecondition,
                "the payment provider refused the request",
                Reason::PaymentProviderRefused,
                DOMAIN,
            )
        }
        StripeError::Unauthorized(_) | StripeError::BadAnswer(_) => internal(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_errors_carry_quota_failure_and_reason() {
        let user_id = jazz_platform::ids::new_id();
        let status = Status::from(BillingError::QuotaExceeded {
            user_id,
            feature: "ai_generation".into(),
            limit: 20,
            used: 20,
            period_end: DateTime::<Utc>::UNIX_EPOCH,
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        let violations = status.get_details_quota_failure().map(|q| q.violations).unwrap_or_default();
        assert_eq!(violations.first().map(|v| v.subject.clone()), Some(format!("user:{}", to_api(user_id))));
        let info = status.get_details_error_info();
        assert_eq!(info.as_ref().map(|i| i.reason.as_str()), Some("QUOTA_EXCEEDED"));
        assert_eq!(info.and_then(|i| i.metadata.get("limit").cloned()).as_deref(), Some("20"));

        let status = Status::from(BillingError::FeatureNotIncluded {
            user_id,
            feature: "audio_export".into(),
            tier: Tier::Free,
        });
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.get_details_error_info().map(|i| i.reason), Some("PLAN_REQUIRED".into()));
    }

    #[test]
    fn stripe_failures_never_show_stripes_text() {
        let status = Status::from(BillingError::Stripe(StripeError::Unavailable("connect refused 10.0.0.1".into())));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("10.0.0.1"));
        let refused = StripeError::Refused { status: 400, code: "resource_missing".into() };
        let status = Status::from(BillingError::Stripe(refused));
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(!status.message().contains("resource_missing"));
        let status = Status::from(BillingError::Stripe(StripeError::Unauthorized(401)));
        assert_eq!(status.code(), Code::Internal);
        let status = Status::from(BillingError::SignatureInvalid(SignatureError::Stale));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.get_details_error_info().map(|i| i.reason), Some("STRIPE_SIGNATURE_INVALID".into()));
    }

    #[test]
    fn stored_data_problems_answer_only_an_error_id() {
        let status = Status::from(BillingError::PlanMissing(Tier::Pro));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("seed"));
    }
}
