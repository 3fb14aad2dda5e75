//! Delivery of content's outbox events to the services that consume them
//! (run by the platform relay, at least once; receivers apply each event id
//! once).
//!
//! | event | receivers |
//! |---|---|
//! | `content.content_deleted`, `hard: true` (item purged) | progress `HandleContentDeleted` (the seed's Cascade / SetNull) |
//! | `content.content_deleted`, `hard: false` (soft delete) | none: the item may still be restored within the window, so nobody drops references yet; the purge after the window writes a `hard: true` event |
//!
//! Unlike identity's relay, an UNIMPLEMENTED answer is retried rather than
//! taken as delivered: progress has the handler, so UNIMPLEMENTED means an
//! older progress is still deployed, and skipping would lose the effect.

use jazz_contract::jazz::progress::v1::HandleContentDeletedRequest;
use jazz_contract::jazz::progress::v1::progress_internal_service_client::ProgressInternalServiceClient;
use jazz_platform::PrincipalKey;
use jazz_platform::config::PeerUrls;
use jazz_platform::ids::to_api;
use jazz_platform::outbox::events;
use jazz_platform::peer::Peer;
use jazz_platform::relay::{Deliver, OutboxEvent, Undelivered};

/// Content's receivers.
pub struct ContentEvents {
    progress: Peer,
}

/// True for the deletions that reach other services: purges, not soft
/// deletes (a payload without `hard` is treated as soft).
fn is_purge(event: &OutboxEvent) -> bool {
    event.payload.get("hard").and_then(serde_json::Value::as_bool).unwrap_or(false)
}

impl ContentEvents {
    /// Receivers at the configured peer addresses (connected lazily).
    pub fn new(peers: &PeerUrls, key: PrincipalKey) -> Self {
        Self { progress: Peer::new("progress", &peers.progress, "content", key) }
    }
}

#[tonic::async_trait]
impl Deliver for ContentEvents {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        match event.event_type.as_str() {
            events::CONTENT_DELETED if is_purge(event) => {
                let request = self.progress.request(HandleContentDeletedRequest {
                    event_id: to_api(event.id),
                    content_id: event.aggregate_id.clone(),
                    schema_version: event.schema_version,
                });
                let channel = self.progress.channel().ok_or("progress: no usable URL")?;
                ProgressInternalServiceClient::new(channel)
                    .handle_content_deleted(request)
                    .await
                    .map(drop)
                    .map_err(|status| Undelivered::from_status("progress.HandleContentDeleted", &status))
            }
            // No receiver: delivered means "nobody else needs it".
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payload: serde_json::Value) -> OutboxEvent {
        OutboxEvent {
            id: jazz_platform::ids::new_id(),
            event_type: events::CONTENT_DELETED.into(),
            aggregate_id: to_api(jazz_platform::ids::new_id()),
            payload,
            attempts: 0,
            created_at: chrono::Utc::now(),
            schema_version: jazz_platform::outbox::SCHEMA_VERSION,
            trace_context: None,
        }
    }

    #[test]
    fn only_purges_reach_progress() {
        assert!(is_purge(&event(serde_json::json!({"hard": true}))));
        assert!(!is_purge(&event(serde_json::json!({"hard": false}))));
        assert!(!is_purge(&event(serde_json::json!({}))));
    }
}
