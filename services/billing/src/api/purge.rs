//! PurgeUser (identity's relay, `user_purged`): the user's Stripe
//! subscriptions are canceled at Stripe first, then every billing row that
//! holds the user's id is deleted in one transaction that also records the
//! event id, forgets the user's replay rows and audit traces, and writes a
//! `USER_PURGE` entry that names nobody.
//!
//! Stripe comes first and outside the transaction (no connection is held
//! across the call): Stripe unreachable → UNAVAILABLE with nothing deleted,
//! so the relay retries; the key derives from the event id, so the retry is
//! the same request. The transaction then locks the user's rows and checks
//! that no subscription was linked meanwhile (else ABORTED, retried).

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1::{PurgeUserRequest, PurgeUserResponse};
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::outbox::{events, mark_processed};
use jazz_platform::{DbPool, Principal};
use serde_json::json;
use uuid::Uuid;

use super::payments::Payments;
use crate::error::BillingError;
use crate::store::erasure::{self, Billable};
use crate::stripe::StripeError;

/// Replay scopes of billing's own calls (`billing.StartCheckout:<user>`).
const REPLAY_PREFIX: &str = "billing.";
/// Stripe key reservations scoped by user (`stripe:create_customer:<user>`).
const STRIPE_KEY_PREFIX: &str = "stripe:";

/// `BillingInternalService.PurgeUser`.
pub async fn purge(
    pool: &DbPool,
    payments: &Payments,
    principal: &Principal,
    request: PurgeUserRequest,
) -> Result<PurgeUserResponse, BillingError> {
    // schema_version: checked by the handler (`accept_version`).
    let PurgeUserRequest { event_id, user_id, schema_version: _ } = request;
    let mut v = Violations::new();
    let event = v.check(parse_id("event_id", &event_id));
    let user = v.check(parse_id("user_id", &user_id));
    v.finish().map_err(BillingError::Invalid)?;
    let (Some(event), Some(user)) = (event, user) else { return Err(BillingError::Invalid(Vec::new())) };

    let mut conn = pool.get().await?;
    if jazz_platform::outbox::was_processed(&mut conn, event).await? {
        return Ok(PurgeUserResponse { duplicate: true }); // Stripe is not called again
    }
    let billable = erasure::billable_at_stripe(&mut conn, user, false).await?;
    for sub in &billable {
        cancel_at_stripe(payments, event, sub).await?;
    }
    conn.transaction(async |conn| {
        if !mark_processed(conn, event, events::USER_PURGED).await? {
            return Ok(PurgeUserResponse { duplicate: true });
        }
        let now_billable = erasure::billable_at_stripe(conn, user, true).await?;
        if now_billable.iter().any(|sub| !billable.contains(sub)) {
            return Err(BillingError::PurgeRaced);
        }
        let purged = erasure::purge_user(conn, user, super::cancel::scope).await?;
        let forgotten =
            jazz_platform::erasure::forget_user(conn, user, &[REPLAY_PREFIX, STRIPE_KEY_PREFIX], &[]).await?;
        // The entry names the event, never the user: afterwards no row
        // here holds the user's id.
        let mut entry = AuditEntry::new(principal, "USER_PURGE", "subscriptions", None).with_change(
            None,
            Some(json!({
                "subscriptions": purged.subscriptions,
                "usage_records": purged.usage_records,
                "stripe_subscriptions_canceled": billable.len(),
                "stripe_keys": purged.stripe_keys,
                "outbox_events": forgotten.outbox_events,
                "replays_and_key_reservations": forgotten.replays,
                "audit_entries_anonymised": forgotten.audit_entries,
            })),
        );
        entry.user_id = None;
        if let Some(serde_json::Value::Object(metadata)) = entry.metadata.as_mut() {
            metadata.insert("event_id".into(), to_api(event).into());
        }
        entry.write(conn).await?;
        Ok::<_, BillingError>(PurgeUserResponse { duplicate: false })
    })
    .await
}

/// Cancels one subscription at Stripe at once; one Stripe no longer knows
/// counts as canceled.
async fn cancel_at_stripe(payments: &Payments, event: Uuid, sub: &Billable) -> Result<(), BillingError> {
    let key = format!("jazz-purge-{}-{}", to_api(event), to_api(sub.id));
    match payments.stripe.cancel_subscription(&sub.stripe_subscription_id, &key).await {
        Ok(canceled) => {
            tracing::info!(subscription = %to_api(sub.id), status = %canceled.status, "stripe subscription canceled for a purge");
            Ok(())
        }
        Err(StripeError::Refused { status: 404, .. }) => Ok(()),
        Err(StripeError::Refused { ref code, .. }) if code == "resource_missing" => Ok(()),
        Err(other) => Err(other.into()),
    }
}
