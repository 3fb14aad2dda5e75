//! HandleStripeEvent: verify, deduplicate, apply — in one transaction.
//!
//! The signature is checked before anything is read or written. The event
//! id goes into `stripe_events` in the same transaction as the effect and
//! its audit entry (and, for a tier or status change, the
//! `billing.subscription_changed` outbox event), so a repeated delivery
//! finds it and changes nothing. Order: `subscriptions.last_stripe_event_at`
//! keeps the `created` of the newest event applied; a strictly older one is
//! recorded and acknowledged but changes nothing. (Stripe's `created` has
//! second precision: events of the same second apply in arrival order.)
//! Unknown event types, and events about customers or subscriptions that
//! are not ours, are recorded and acknowledged.

use chrono::Utc;
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::billing::v1::{HandleStripeEventRequest, HandleStripeEventResponse};
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::to_api;
use jazz_platform::{DbPool, Principal};
use secrecy::ExposeSecret as _;
use serde_json::json;

use super::payments::Payments;
use super::plans;
use crate::domain::catalogue::Catalogue;
use crate::domain::subscription::View;
use crate::domain::tier::Status;
use crate::error::BillingError;
use crate::events;
use crate::store::models::{StripeState, SubscriptionRow};
use crate::store::{stripe_events, subscriptions};
use crate::stripe::event::{self, Effect, Event, PayloadError, SubscriptionState};
use crate::stripe::signature;

/// Largest payload (`billing_internal.proto`).
const MAX_PAYLOAD: usize = 1024 * 1024;

/// `BillingInternalService.HandleStripeEvent`.
pub async fn handle(
    pool: &DbPool,
    payments: &Payments,
    principal: &Principal,
    request: HandleStripeEventRequest,
) -> Result<HandleStripeEventResponse, BillingError> {
    let HandleStripeEventRequest { payload, signature_header } = request;
    let secret = payments.webhook_secret.as_ref().ok_or(BillingError::WebhookNotConfigured)?;
    if payload.len() > MAX_PAYLOAD {
        return Err(PayloadError("over 1 MiB").into());
    }
    signature::verify(&payload, &signature_header, secret.expose_secret().as_bytes(), Utc::now().timestamp())?;
    let event = event::parse(&payload)?;
    let mut conn = pool.get().await?;
    let duplicate = conn
        .transaction(async |conn| {
            if !stripe_events::record(conn, &event.id, &event.event_type, event.created).await? {
                return Ok::<_, BillingError>(true);
            }
            apply(conn, principal, &event).await?;
            Ok(false)
        })
        .await?;
    tracing::info!(event_id = %event.id, event_type = %event.event_type, duplicate, "stripe event");
    Ok(HandleStripeEventResponse { event_id: event.id, event_type: event.event_type, duplicate })
}

async fn apply(conn: &mut AsyncPgConnection, principal: &Principal, event: &Event) -> Result<(), BillingError> {
    match &event.effect {
        Effect::CheckoutCompleted { user_id, customer, subscription } => {
            let Some(user) = user_id else { return ignore(event, "checkout without our user") };
            let Some(row) = subscriptions::lock_live(conn, *user).await? else {
                return ignore(event, "checkout of an unknown user");
            };
            let old = ids(&row);
            if let Some(customer) = customer {
                subscriptions::set_customer(conn, row.id, customer).await?;
            }
            // Link the new subscription unless another one is in force
            // (then this checkout is the older one).
            let status = Status::parse(&row.status);
            let live_other = row.stripe_subscription_id.is_some()
                && row.stripe_subscription_id != *subscription
                && status.is_some_and(Status::grants_paid_entitlements);
            let row = match subscription {
                Some(subscription) if !live_other => {
                    subscriptions::set_stripe_subscription(conn, row.id, subscription).await?
                }
                _ => subscriptions::find_live(conn, *user).await?.ok_or(BillingError::SubscriptionNotFound)?,
            };
            audit(conn, principal, event, &row, old, ids(&row)).await
        }
        Effect::Subscription(state) => {
            let Some(row) = find_for(conn, state).await? else {
                return ignore(event, "subscription of no user of ours");
            };
            if row.last_stripe_event_at.is_some_and(|last| event.created < last) {
                return ignore(event, "older than the state applied");
            }
            if row.stripe_subscription_id.as_ref().is_some_and(|linked| *linked != state.id)
                && !state.status.grants_paid_entitlements()
            {
                return ignore(event, "about a subscription no longer linked");
            }
            let catalogue = plans::load(conn).await?;
            let Some(tier) = state.price_id.as_deref().and_then(|price| tier_of(&catalogue, price)) else {
                return ignore(event, "price of no plan");
            };
            let new = StripeState {
                stripe_customer_id: row.stripe_customer_id.clone().or_else(|| state.customer.clone()),
                stripe_subscription_id: Some(state.id.clone()),
                stripe_price_id: state.price_id.clone(),
                status: state.status.as_str().to_owned(),
                tier: tier.as_str().to_owned(),
                current_period_start: state.period_start.or(row.current_period_start),
                current_period_end: state.period_end.or(row.current_period_end),
                cancel_at_period_end: state.cancel_at_period_end,
                canceled_at: state.canceled_at,
                trial_start: state.trial_start,
                trial_end: state.trial_end,
                last_stripe_event_at: Some(event.created),
            };
            let updated = subscriptions::apply_stripe_state(conn, row.id, &new).await?;
            changed(conn, principal, event, &catalogue, row, updated).await
        }
        Effect::PaymentFailed { subscription } => {
            let Some(subscription) = subscription else { return ignore(event, "invoice without subscription") };
            let Some(row) = subscriptions::lock_by_stripe_subscription(conn, subscription).await? else {
                return ignore(event, "invoice of no subscription of ours");
            };
            if row.last_stripe_event_at.is_some_and(|last| event.created < last) {
                return ignore(event, "older than the state applied");
            }
            if !matches!(Status::parse(&row.status), Some(Status::Active | Status::Trialing)) {
                return ignore(event, "not in good standing anyway");
            }
            let catalogue = plans::load(conn).await?;
            let updated =
                subscriptions::set_status_from_stripe(conn, row.id, Status::PastDue.as_str(), event.created).await?;
            changed(conn, principal, event, &catalogue, row, updated).await
        }
        Effect::Ignored => Ok(()),
    }
}

/// The row an event about a Stripe subscription is for: the one linked to
/// it, else the user named in its metadata, else its customer's.
async fn find_for(
    conn: &mut AsyncPgConnection,
    state: &SubscriptionState,
) -> Result<Option<SubscriptionRow>, BillingError> {
    if let Some(row) = subscriptions::lock_by_stripe_subscription(conn, &state.id).await? {
        return Ok(Some(row));
    }
    if let Some(user) = state.user_id
        && let Some(row) = subscriptions::lock_live(conn, user).await?
    {
        return Ok(Some(row));
    }
    match &state.customer {
        Some(customer) => Ok(subscriptions::lock_by_customer(conn, customer).await?),
        None => Ok(None),
    }
}

fn tier_of(catalogue: &Catalogue, price: &str) -> Option<crate::domain::tier::Tier> {
    catalogue.plans().iter().find(|plan| plan.stripe_price_id.as_deref() == Some(price)).map(|plan| plan.tier)
}

fn ignore(event: &Event, why: &'static str) -> Result<(), BillingError> {
    tracing::info!(event_id = %event.id, event_type = %event.event_type, why, "stripe event recorded, no change");
    Ok(())
}

fn ids(row: &SubscriptionRow) -> serde_json::Value {
    json!({"stripe_customer_id": row.stripe_customer_id, "stripe_subscription_id": row.stripe_subscription_id})
}

fn state(row: &SubscriptionRow) -> serde_json::Value {
    json!({"tier": row.tier, "status": row.status, "stripe_price_id": row.stripe_price_id,
           "cancel_at_period_end": row.cancel_at_period_end, "current_period_end": row.current_period_end})
}

/// Audits a state change and, when the tier, status or scheduled
/// cancellation moved, writes `billing.subscription_changed`.
async fn changed(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    event: &Event,
    catalogue: &Catalogue,
    old: SubscriptionRow,
    new: SubscriptionRow,
) -> Result<(), BillingError> {
    let moved =
        old.tier != new.tier || old.status != new.status || old.cancel_at_period_end != new.cancel_at_period_end;
    audit(conn, principal, event, &new, state(&old), state(&new)).await?;
    if moved {
        let view = View::at(new, catalogue, Utc::now())?;
        events::subscription_changed(conn, &view).await?;
    }
    Ok(())
}

async fn audit(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    event: &Event,
    row: &SubscriptionRow,
    old: serde_json::Value,
    new: serde_json::Value,
) -> Result<(), BillingError> {
    let mut entry = AuditEntry::new(principal, "STRIPE_EVENT", "subscriptions", Some(to_api(row.id)))
        .by_user(row.user_id)
        .with_change(Some(old), Some(new));
    if let Some(serde_json::Value::Object(metadata)) = entry.metadata.as_mut() {
        metadata.insert("stripe_event_id".into(), event.id.clone().into());
        metadata.insert("stripe_event_type".into(), event.event_type.clone().into());
    }
    entry.write(conn).await?;
    Ok(())
}
