//! Billing's outbox: `billing.subscription_changed` is written in the same
//! transaction as every tier or status change (Stripe webhooks), so the
//! services that will react to it (identity's tier-targeted flags read
//! `GetUserSubscription` today and need no push yet) can be added without
//! touching the writers. The relay runs so the outbox drains; an event with
//! no receiver yet is delivered to nobody and marked done.

use diesel_async::AsyncPgConnection;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::{self, events};
use jazz_platform::relay::{Deliver, OutboxEvent};
use serde_json::json;

use crate::api::View;

/// Billing's relay delivery.
#[derive(Debug, Clone, Copy)]
pub struct BillingEvents;

#[tonic::async_trait]
impl Deliver for BillingEvents {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), String> {
        match event.event_type.as_str() {
            // No receiver subscribes yet (see the module doc).
            events::SUBSCRIPTION_CHANGED => Ok(()),
            other => {
                tracing::warn!(event_type = other, "billing outbox event of an unknown type; dropped");
                Ok(())
            }
        }
    }
}

/// Writes `billing.subscription_changed` for `view` in the caller's
/// transaction (aggregate: the user).
pub async fn subscription_changed(conn: &mut AsyncPgConnection, view: &View) -> diesel::QueryResult<()> {
    let payload = json!({
        "subscription_id": to_api(view.row.id),
        "user_id": to_api(view.row.user_id),
        "tier": view.tier.as_str(),
        "status": view.status.as_str(),
        "effective_tier": view.effective.as_str(),
        "cancel_at_period_end": view.row.cancel_at_period_end,
    });
    outbox::enqueue(conn, events::SUBSCRIPTION_CHANGED, &to_api(view.row.user_id), payload).await.map(drop)
}
