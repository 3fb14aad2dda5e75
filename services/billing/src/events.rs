//! Billing's outbox: `billing.subscription_changed` is written in the same
//! transaction as every tier or status change (Stripe webhooks) and
//! delivered by the platform relay to identity's
//! `HandleSubscriptionChanged` (the tier for flag targeting), at least
//! once; identity applies each event id once and ignores reports older
//! than the one it holds.

use diesel_async::AsyncPgConnection;
use jazz_contract::jazz::identity::v1::HandleSubscriptionChangedRequest;
use jazz_contract::jazz::identity::v1::identity_internal_service_client::IdentityInternalServiceClient;
use jazz_platform::PrincipalKey;
use jazz_platform::config::PeerUrls;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::{self, events};
use jazz_platform::peer::Peer;
use jazz_platform::relay::{Deliver, OutboxEvent, Undelivered};
use serde_json::json;

use crate::domain::subscription::View;
use crate::domain::tier::Tier;

/// Billing's relay delivery.
#[derive(Debug, Clone)]
pub struct BillingEvents {
    identity: Peer,
}

impl BillingEvents {
    /// Receivers at the configured peer addresses (connected lazily).
    pub fn new(peers: &PeerUrls, key: PrincipalKey) -> Self {
        Self { identity: Peer::new("identity", &peers.identity, "billing", key) }
    }

    async fn subscription_changed(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        let tier = event.payload.get("effective_tier").and_then(serde_json::Value::as_str).and_then(Tier::parse);
        let Some(tier) = tier else {
            // Billing wrote it itself: a payload without a known tier is a
            // bug no retry mends.
            tracing::error!(event_id = %event.id, "subscription_changed without a known effective_tier; dropped");
            return Ok(());
        };
        let request = self.identity.request(HandleSubscriptionChangedRequest {
            event_id: to_api(event.id),
            user_id: event.aggregate_id.clone(),
            effective_tier: tier.to_api().into(),
            changed_at: Some(jazz_platform::fields::timestamp(event.created_at)),
            schema_version: event.schema_version,
        });
        let channel = self.identity.channel().ok_or("identity: no usable URL")?;
        IdentityInternalServiceClient::new(channel)
            .handle_subscription_changed(request)
            .await
            .map(drop)
            .map_err(|status| Undelivered::from_status("identity.HandleSubscriptionChanged", &status))
    }
}

#[tonic::async_trait]
impl Deliver for BillingEvents {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        match event.event_type.as_str() {
            events::SUBSCRIPTION_CHANGED => self.subscription_changed(event).await,
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
