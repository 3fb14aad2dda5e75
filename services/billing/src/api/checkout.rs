//! StartCheckout and OpenBillingPortal: Stripe pages for the caller.
//!
//! StartCheckout runs in three steps so that nothing is sent to Stripe
//! without its Idempotency-Key stored first, and no transaction is held
//! open across a Stripe call:
//! 1. one transaction reserves the `request_id` (platform
//!    `idempotency_keys`, `in_progress`, with a digest of the arguments) —
//!    or answers the stored first response if it completed — and, for a
//!    user without a Stripe customer, reserves the customer's key;
//! 2. Stripe: the customer (if needed, then stored with its audit entry),
//!    then the Checkout Session, with `Idempotency-Key`s derived from those
//!    reservations, so a retry after a timeout gets the same session;
//! 3. one transaction stores the answer as `completed` with the audit entry.
//!
//! If Stripe is down the call answers UNAVAILABLE having written only the
//! reservations: retrying with the same `request_id` continues with the
//! same keys.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1::{
    OpenBillingPortalRequest, OpenBillingPortalResponse, StartCheckoutRequest, StartCheckoutResponse,
};
use jazz_contract::jazz::common::v1::SubscriptionTier;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::{DbPool, Principal};
use prost::Message as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::account::subscription_of;
use super::convert;
use super::payments::{Payments, reserve_key};
use super::plans;
use crate::domain::subscription::View;
use crate::domain::tier::Tier;
use crate::error::BillingError;
use crate::store::{stripe_keys, subscriptions};
use crate::stripe::CheckoutParams;

/// Longest `request_id` (`billing.proto`).
const MAX_REQUEST_ID: usize = 64;

/// The replay scope of StartCheckout for one caller.
fn checkout_scope(user: Uuid) -> String {
    format!("billing.StartCheckout:{}", to_api(user))
}

/// The reservation scope of a user's Stripe customer.
fn customer_scope(user: Uuid) -> String {
    format!("stripe:create_customer:{}", to_api(user))
}

struct Checkout {
    tier: Tier,
    success_url: String,
    cancel_url: String,
    request_id: String,
    hash: Vec<u8>,
}

fn parse(payments: &Payments, request: StartCheckoutRequest) -> Result<Checkout, BillingError> {
    let StartCheckoutRequest { tier, success_url, cancel_url, request_id } = request;
    let mut violations = Violations::new();
    let parsed_tier = match SubscriptionTier::try_from(tier) {
        Ok(SubscriptionTier::Pro) => Some(Tier::Pro),
        Ok(SubscriptionTier::Educator) => Some(Tier::Educator),
        Ok(SubscriptionTier::Free | SubscriptionTier::Unspecified) | Err(_) => {
            violations.push(FieldViolation::new("tier", "must be a paid tier: PRO or EDUCATOR"));
            None
        }
    };
    let success = violations.check(payments.redirects.check("success_url", &success_url));
    let cancel = violations.check(payments.redirects.check("cancel_url", &cancel_url));
    let request_id_ok = request_id.len() <= MAX_REQUEST_ID
        && request_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !request_id_ok {
        violations.push(FieldViolation::new("request_id", "must be at most 64 characters of A-Z, a-z, 0-9, _ and -"));
    }
    violations.finish().map_err(BillingError::Invalid)?;
    let (Some(tier), Some(success_url), Some(cancel_url)) = (parsed_tier, success, cancel) else {
        return Err(BillingError::Invalid(Vec::new()));
    };
    // The digest covers the arguments, not the id itself.
    let arguments = StartCheckoutRequest {
        tier: tier.to_api().into(),
        success_url: success_url.clone(),
        cancel_url: cancel_url.clone(),
        request_id: String::new(),
    };
    let hash = Sha256::digest(arguments.encode_to_vec()).to_vec();
    // No id: a fresh one, so the Stripe call still has its stored key.
    let request_id = if request_id.is_empty() { to_api(new_id()) } else { request_id };
    Ok(Checkout { tier, success_url, cancel_url, request_id, hash })
}

/// Step 1's outcome.
enum Reserved {
    /// The stored first answer.
    Replay(StartCheckoutResponse),
    /// Go to Stripe.
    Call { subscription_id: Uuid, price: String, customer: Result<String, String> },
}

/// `BillingService.StartCheckout`.
pub async fn start(
    pool: &DbPool,
    payments: &Payments,
    principal: &Principal,
    user: Uuid,
    request: StartCheckoutRequest,
) -> Result<StartCheckoutResponse, BillingError> {
    let Checkout { tier, success_url, cancel_url, request_id, hash } = parse(payments, request)?;
    let scope = checkout_scope(user);
    let now = Utc::now();
    let mut conn = pool.get().await?;
    let reserved = conn
        .transaction(async |conn| {
            let catalogue = plans::load(conn).await?;
            // Locked: one user's checkouts are serialised.
            let row = subscription_of(conn, principal, user, now, true).await?;
            let stored = stripe_keys::find(conn, &scope, &request_id).await?;
            if let Some(stored) = &stored {
                if stored.request_hash.as_deref() != Some(hash.as_slice()) {
                    return Err(BillingError::RequestIdReused);
                }
                if let Some(response) = &stored.response {
                    let answer = StartCheckoutResponse::decode(response.as_slice())
                        .map_err(|error| BillingError::Corrupt(error.to_string()))?;
                    return Ok(Reserved::Replay(answer));
                }
            }
            let view = View::at(row, &catalogue, now)?;
            if view.tier.is_paid() && view.status.grants_paid_entitlements() {
                return Err(BillingError::AlreadySubscribed);
            }
            let price = catalogue
                .plan(tier)
                .and_then(|plan| plan.stripe_price_id.clone())
                .ok_or(BillingError::PlanMissing(tier))?;
            if stored.is_none() {
                stripe_keys::reserve(conn, &scope, &request_id, &hash).await?;
            }
            let customer = match view.row.stripe_customer_id {
                Some(customer) => Ok(customer),
                None => Err(reserve_key(conn, &customer_scope(user), b"customer").await?),
            };
            Ok(Reserved::Call { subscription_id: view.row.id, price, customer })
        })
        .await?;
    let (subscription_id, price, customer) = match reserved {
        Reserved::Replay(answer) => return Ok(answer),
        Reserved::Call { subscription_id, price, customer } => (subscription_id, price, customer),
    };
    let user_api = to_api(user);
    let customer = match customer {
        Ok(customer) => customer,
        Err(key) => {
            let made = payments.stripe.create_customer(&user_api, &format!("jazz-customer-{key}")).await?;
            conn.transaction(async |conn| {
                if subscriptions::set_customer(conn, subscription_id, &made.id).await? {
                    AuditEntry::new(
                        principal,
                        "STRIPE_CUSTOMER_CREATE",
                        "subscriptions",
                        Some(to_api(subscription_id)),
                    )
                    .by_user(user)
                    .with_change(None, Some(json!({"stripe_customer_id": made.id})))
                    .write(conn)
                    .await?;
                }
                stripe_keys::release(conn, &customer_scope(user), &key).await?;
                Ok::<_, BillingError>(())
            })
            .await?;
            made.id
        }
    };
    let params = CheckoutParams {
        customer: &customer,
        price: &price,
        user: &user_api,
        tier: tier.as_str(),
        success_url: &success_url,
        cancel_url: &cancel_url,
    };
    let idempotency_key = format!("jazz-checkout-{user_api}-{request_id}");
    let session = payments.stripe.create_checkout_session(&params, &idempotency_key).await?;
    let expires_at = DateTime::from_timestamp(session.expires_at, 0).unwrap_or(now + chrono::Duration::hours(24));
    let answer = StartCheckoutResponse {
        checkout_url: session.url,
        checkout_session_id: session.id,
        expires_at: Some(convert::timestamp(expires_at)),
    };
    conn.transaction(async |conn| {
        stripe_keys::complete(conn, &scope, &request_id, &answer.encode_to_vec()).await?;
        let new =
            json!({"tier": tier.as_str(), "checkout_session_id": answer.checkout_session_id, "request_id": request_id});
        AuditEntry::new(principal, "CHECKOUT_START", "subscriptions", Some(to_api(subscription_id)))
            .by_user(user)
            .with_change(None, Some(new))
            .write(conn)
            .await?;
        Ok::<_, BillingError>(())
    })
    .await?;
    Ok(answer)
}

/// `BillingService.OpenBillingPortal`. A portal session changes nothing of
/// ours and is short-lived, so each call sends a fresh Idempotency-Key
/// (a reused one would replay an expired session) and writes nothing.
pub async fn portal(
    pool: &DbPool,
    payments: &Payments,
    principal: &Principal,
    user: Uuid,
    request: OpenBillingPortalRequest,
) -> Result<OpenBillingPortalResponse, BillingError> {
    let OpenBillingPortalRequest { return_url } = request;
    let return_url = payments.redirects.check("return_url", &return_url).map_err(|v| BillingError::Invalid(vec![v]))?;
    let now = Utc::now();
    let mut conn = pool.get().await?;
    let row = conn.transaction(async |conn| subscription_of(conn, principal, user, now, false).await).await?;
    let customer = row.stripe_customer_id.ok_or(BillingError::NoBillingAccount)?;
    let key = format!("jazz-portal-{}", to_api(new_id()));
    let session = payments.stripe.create_portal_session(&customer, &return_url, &key).await?;
    Ok(OpenBillingPortalResponse { url: session.url })
}
