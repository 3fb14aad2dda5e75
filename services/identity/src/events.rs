//! Delivery of identity's outbox events to the services that consume them
//! (run by the platform relay, at least once; receivers apply each event id
//! once).
//!
//! | event | receivers |
//! |---|---|
//! | `identity.user_created` | billing `HandleUserCreated` (the FREE subscription) |
//! | `identity.user_deleted` | none yet (the purge after the retention window will fan out) |

use std::time::Duration;

use jazz_contract::jazz::billing::v1::HandleUserCreatedRequest;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::events;
use jazz_platform::relay::{Deliver, OutboxEvent};
use jazz_platform::{Principal, PrincipalKey};
use tonic::transport::{Channel, Endpoint};

/// How long one delivery call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Identity's receivers.
pub struct IdentityEvents {
    billing: BillingInternalServiceClient<Channel>,
    key: PrincipalKey,
}

impl IdentityEvents {
    /// Receivers at the configured peer addresses (connected lazily).
    pub fn new(billing_url: &str, key: PrincipalKey) -> anyhow::Result<Self> {
        let channel = Endpoint::from_shared(billing_url.to_owned())?.connect_timeout(CALL_TIMEOUT).connect_lazy();
        Ok(Self { billing: BillingInternalServiceClient::new(channel), key })
    }
}

#[tonic::async_trait]
impl Deliver for IdentityEvents {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), String> {
        match event.event_type.as_str() {
            events::USER_CREATED => {
                let mut request = tonic::Request::new(HandleUserCreatedRequest {
                    event_id: to_api(event.id),
                    user_id: event.aggregate_id.clone(),
                    created_at: Some(prost_types::Timestamp {
                        seconds: event.created_at.timestamp(),
                        nanos: i32::try_from(event.created_at.timestamp_subsec_nanos()).unwrap_or(0),
                    }),
                });
                request.set_timeout(CALL_TIMEOUT);
                self.key.attach(&mut request, &Principal::service("identity"));
                self.billing
                    .clone()
                    .handle_user_created(request)
                    .await
                    .map(drop)
                    .map_err(|status| format!("billing.HandleUserCreated: {:?} {}", status.code(), status.message()))
            }
            // No receiver yet: delivered means "nobody else needs it".
            _ => Ok(()),
        }
    }
}
