//! Delivery of identity's outbox events to the services that consume them
//! (run by the platform relay, at least once; receivers apply each event id
//! once).
//!
//! | event | receivers |
//! |---|---|
//! | `identity.user_created` | billing `HandleUserCreated` (the FREE subscription) |
//! | `identity.user_deleted` | none yet (the purge after the retention window fans out) |
//! | `identity.user_undeleted` | none yet (receivers that hide a deleted user's rows will unhide them) |
//! | `identity.user_purged` | billing, content and progress `PurgeUser` (erase the user's rows) |
//! | `identity.mail_requested` | identity's own mailer ([`crate::mail_outbox`]) |
//!
//! Every receiver implements its method, so any failure — UNIMPLEMENTED
//! included (an older release of the receiver still deployed) — is retried
//! with the relay's backoff rather than taken as delivered. Each request
//! carries the event's `schema_version` and, in its metadata, the trace
//! context of the delivery (a child of the span that wrote the event).

use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::billing::v1::{HandleUserCreatedRequest, PurgeUserRequest as BillingPurge};
use jazz_contract::jazz::content::v1::PurgeUserRequest as ContentPurge;
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::progress::v1::PurgeUserRequest as ProgressPurge;
use jazz_contract::jazz::progress::v1::progress_internal_service_client::ProgressInternalServiceClient;
use jazz_platform::PrincipalKey;
use jazz_platform::config::PeerUrls;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::events;
use jazz_platform::peer::Peer;
use jazz_platform::relay::{Deliver, OutboxEvent, Undelivered};
use tonic::Status;
use tonic::transport::Channel;

use crate::mail_outbox::{MAIL_REQUESTED, MailDelivery};

/// Identity's receivers.
pub struct IdentityEvents {
    billing: Peer,
    content: Peer,
    progress: Peer,
    mail: MailDelivery,
}

fn channel(peer: &Peer) -> Result<Channel, String> {
    peer.channel().ok_or_else(|| format!("{}: no usable URL", peer.name()))
}

/// A delivery outcome: OK is delivered; INVALID_ARGUMENT is a rejection;
/// anything else (UNIMPLEMENTED included: an older receiver) is retried.
fn outcome<T>(receiver: &str, result: Result<T, Status>) -> Result<(), Undelivered> {
    result.map(drop).map_err(|status| Undelivered::from_status(receiver, &status))
}

impl IdentityEvents {
    /// Receivers at the configured peer addresses (connected lazily), and
    /// `mail` for queued mails.
    pub fn new(peers: &PeerUrls, key: &PrincipalKey, mail: MailDelivery) -> Self {
        let peer = |name, url: &str| Peer::new(name, url, "identity", key.clone());
        Self {
            billing: peer("billing", &peers.billing),
            content: peer("content", &peers.content),
            progress: peer("progress", &peers.progress),
            mail,
        }
    }

    async fn purged(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        let event_id = to_api(event.id);
        let user_id = event.aggregate_id.clone();
        let mut billing = BillingInternalServiceClient::new(channel(&self.billing)?);
        let mut content = ContentInternalServiceClient::new(channel(&self.content)?);
        let mut progress = ProgressInternalServiceClient::new(channel(&self.progress)?);
        let schema_version = event.schema_version;
        let billing = billing.purge_user(self.billing.request(BillingPurge {
            event_id: event_id.clone(),
            user_id: user_id.clone(),
            schema_version,
        }));
        let content = content.purge_user(self.content.request(ContentPurge {
            event_id: event_id.clone(),
            user_id: user_id.clone(),
            schema_version,
        }));
        let progress = progress.purge_user(self.progress.request(ProgressPurge { event_id, user_id, schema_version }));
        let (billing, content, progress) = tokio::join!(billing, content, progress);
        // Receivers apply an event id once, so retrying all three after one
        // failure is safe.
        let failures: Vec<Undelivered> = [
            outcome("billing.PurgeUser", billing),
            outcome("content.PurgeUser", content),
            outcome("progress.PurgeUser", progress),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        // A purge must happen: one receiver's rejection does not stop the
        // others' retries, so the event stays pending until all take it.
        match failures.as_slice() {
            [] => Ok(()),
            [single] => Err(single.clone()),
            several => Err(Undelivered::Retry(several.iter().map(Undelivered::reason).collect::<Vec<_>>().join("; "))),
        }
    }
}

#[tonic::async_trait]
impl Deliver for IdentityEvents {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        match event.event_type.as_str() {
            events::USER_CREATED => {
                let request = self.billing.request(HandleUserCreatedRequest {
                    event_id: to_api(event.id),
                    user_id: event.aggregate_id.clone(),
                    created_at: Some(prost_types::Timestamp {
                        seconds: event.created_at.timestamp(),
                        nanos: i32::try_from(event.created_at.timestamp_subsec_nanos()).unwrap_or(0),
                    }),
                    schema_version: event.schema_version,
                });
                let answer =
                    BillingInternalServiceClient::new(channel(&self.billing)?).handle_user_created(request).await;
                outcome("billing.HandleUserCreated", answer)
            }
            events::USER_PURGED => self.purged(event).await,
            MAIL_REQUESTED => self.mail.deliver(event).await.map_err(Undelivered::Retry),
            // No receiver yet: delivered means "nobody else needs it".
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ok_counts_as_delivered() {
        assert!(outcome::<()>("x", Ok(())).is_ok());
        assert!(matches!(outcome::<()>("x", Err(Status::unimplemented("older release"))), Err(Undelivered::Retry(_))));
        assert!(matches!(outcome::<()>("x", Err(Status::unavailable("down"))), Err(Undelivered::Retry(_))));
        assert!(matches!(outcome::<()>("x", Err(Status::invalid_argument("bad"))), Err(Undelivered::Rejected(_))));
    }
}
