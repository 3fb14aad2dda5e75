//! CancelSubscription / ResumeSubscription: `cancel_at_period_end` on the
//! caller's paid subscription. A subscription linked to Stripe is changed
//! at Stripe first (its Idempotency-Key reserved in a transaction that
//! commits before the call), then mirrored here with the audit entry; one
//! without a Stripe subscription (granted by an operator) changes here only.

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use jazz_platform::{DbPool, Principal};
use serde_json::json;
use uuid::Uuid;

use super::account::subscription_of;
use super::payments::{Payments, reserve_key};
use super::plans;
use crate::domain::subscription::View;
use crate::error::BillingError;
use crate::store::{stripe_keys, subscriptions};

/// What step 1 found.
enum Next {
    /// Nothing (left) to do, or done locally.
    Done(Box<View>),
    /// Change it at Stripe with this key.
    Stripe { stripe_subscription: String, key: String },
}

/// The reservation scope of a subscription's `cancel_at_period_end` changes.
pub(crate) fn scope(subscription: Uuid) -> String {
    format!("stripe:cancel_at_period_end:{}", to_api(subscription))
}

/// Sets `cancel_at_period_end` to `cancel` for the caller.
pub async fn set_cancel(
    pool: &DbPool,
    payments: &Payments,
    principal: &Principal,
    user: Uuid,
    cancel: bool,
) -> Result<View, BillingError> {
    let now = Utc::now();
    let mut conn = pool.get().await?;
    let next = conn
        .transaction(async |conn| {
            let catalogue = plans::load(conn).await?;
            let row = subscription_of(conn, principal, user, now, true).await?;
            let view = View::at(row, &catalogue, now)?;
            if !view.effective.is_paid() {
                return Err(BillingError::NoPaidSubscription);
            }
            if view.row.cancel_at_period_end == cancel {
                return Ok(Next::Done(Box::new(view))); // a repeat is a no-op
            }
            if let Some(stripe_subscription) = view.row.stripe_subscription_id.clone() {
                let key = reserve_key(conn, &scope(view.row.id), &[u8::from(cancel)]).await?;
                return Ok(Next::Stripe { stripe_subscription, key });
            }
            let canceled_at = if cancel { Some(now) } else { None };
            let row = subscriptions::set_cancel(conn, view.row.id, cancel, canceled_at).await?;
            audit(conn, principal, &row.id, cancel, None).await?;
            Ok(Next::Done(Box::new(View { row, ..view })))
        })
        .await?;
    let (stripe_subscription, key) = match next {
        Next::Done(view) => return Ok(*view),
        Next::Stripe { stripe_subscription, key } => (stripe_subscription, key),
    };
    let idempotency_key = format!("jazz-cancel-{key}");
    let confirmed = payments.stripe.set_cancel_at_period_end(&stripe_subscription, cancel, &idempotency_key).await?;
    let at = Utc::now();
    conn.transaction(async |conn| {
        let catalogue = plans::load(conn).await?;
        let row = subscription_of(conn, principal, user, at, true).await?;
        let view = View::at(row, &catalogue, at)?;
        stripe_keys::release(conn, &scope(view.row.id), &key).await?;
        if view.row.stripe_subscription_id.as_deref() != Some(confirmed.id.as_str()) {
            return Ok(view); // relinked meanwhile; the webhooks will tell
        }
        let cancel = confirmed.cancel_at_period_end;
        let canceled_at = if cancel { view.row.canceled_at.or(Some(at)) } else { None };
        // Events Stripe created before its confirmation are older than this.
        let newest = view.row.last_stripe_event_at.max(Some(at));
        let row = subscriptions::set_cancel_confirmed(conn, view.row.id, cancel, canceled_at, newest).await?;
        audit(conn, principal, &row.id, cancel, Some(&stripe_subscription)).await?;
        Ok::<_, BillingError>(View { row, ..view })
    })
    .await
}

async fn audit(
    conn: &mut diesel_async::AsyncPgConnection,
    principal: &Principal,
    id: &Uuid,
    cancel: bool,
    stripe_subscription: Option<&str>,
) -> Result<(), BillingError> {
    let action = if cancel { "CANCEL" } else { "RESUME" };
    let mut new = json!({"cancel_at_period_end": cancel});
    if let Some(stripe) = stripe_subscription {
        new["stripe_subscription_id"] = stripe.into();
    }
    AuditEntry::new(principal, action, "subscriptions", Some(to_api(*id)))
        .with_change(Some(json!({"cancel_at_period_end": !cancel})), Some(new))
        .write(conn)
        .await?;
    Ok(())
}
