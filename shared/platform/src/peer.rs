//! Calls to a peer service: one lazily connected channel per peer, every
//! request carrying the current trace context (`traceparent`), signed with
//! the calling service's principal and given what is
//! left of the deadline of the call being served ([`Deadline::current_or`],
//! set for each handler by the server's [`crate::deadline::DeadlineLayer`]);
//! background work (relays, jobs), which serves no call, gets
//! [`DELIVERY_BUDGET`].

use std::time::Duration;

use tonic::Request;
use tonic::transport::{Channel, Endpoint};

use crate::deadline::Deadline;
use crate::principal::{Principal, PrincipalKey};

/// Longest wait for a TCP connection to a peer (the call's own deadline may
/// be shorter and then wins).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The budget of one call made by background work (an outbox delivery, a
/// job's question to an owner), which has no caller to inherit one from.
pub const DELIVERY_BUDGET: Duration = Duration::from_secs(3);

/// One peer service as seen by one calling service.
#[derive(Clone)]
pub struct Peer {
    name: &'static str,
    caller: &'static str,
    channel: Option<Channel>,
    key: PrincipalKey,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("name", &self.name).field("caller", &self.caller).finish_non_exhaustive()
    }
}

impl Peer {
    /// The peer `name` at `url`, called as the service `caller`. Connects on
    /// first use; an unusable URL is logged once here and every call to the
    /// peer then finds no [`channel`](Self::channel).
    pub fn new(name: &'static str, url: &str, caller: &'static str, key: PrincipalKey) -> Self {
        let channel =
            Endpoint::from_shared(url.to_owned()).ok().map(|e| e.connect_timeout(CONNECT_TIMEOUT).connect_lazy());
        if channel.is_none() {
            tracing::warn!(peer = name, url, "peer URL unusable; calls to it will answer UNAVAILABLE");
        }
        Self { name, caller, channel, key }
    }

    /// The peer's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The channel, `None` when the configured URL was unusable.
    pub fn channel(&self) -> Option<Channel> {
        self.channel.clone()
    }

    /// `message` as a request to the peer: signed as the calling service,
    /// with the time left of the current call's deadline as its timeout
    /// ([`DELIVERY_BUDGET`] outside a served call).
    pub fn request<T>(&self, message: T) -> Request<T> {
        self.request_within(message, &Deadline::current_or(DELIVERY_BUDGET))
    }

    /// `message` as a request to the peer within `deadline`.
    pub fn request_within<T>(&self, message: T, deadline: &Deadline) -> Request<T> {
        let mut request = Request::new(message);
        deadline.apply(&mut request);
        self.key.attach(&mut request, &Principal::service(self.caller));
        crate::telemetry::inject_metadata(request.metadata_mut());
        request
    }
}

/// The failure of a peer call as one line for logs and relay retries:
/// `"billing.ConsumeQuota: Unavailable connection refused"`.
pub fn describe(call: &str, status: &tonic::Status) -> String {
    format!("{call}: {:?} {}", status.code(), status.message())
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[tokio::test]
    async fn requests_carry_the_principal_and_the_callers_remaining_time() {
        let key = PrincipalKey::new(SecretString::from("0123456789abcdef0123456789abcdef"));
        let peer = Peer::new("billing", "http://127.0.0.1:1", "content", key.clone());
        assert!(peer.channel().is_some());
        let request = peer.request_within((), &Deadline::within(Duration::from_secs(1)));
        let timeout = crate::deadline::grpc_timeout(request.metadata());
        assert!(timeout.is_some_and(|t| t <= Duration::from_secs(1) && t > Duration::from_millis(500)), "{timeout:?}");
        let header = request.metadata().get(crate::principal::PRINCIPAL_HEADER).and_then(|v| v.to_str().ok());
        let principal = header.map(|h| key.verify(h));
        assert!(matches!(principal, Some(Ok(p)) if p.service.as_deref() == Some("content")));
        let background = crate::deadline::grpc_timeout(peer.request(()).metadata());
        assert!(background.is_some_and(|t| t <= DELIVERY_BUDGET && t > DELIVERY_BUDGET / 2), "{background:?}");
    }

    #[tokio::test]
    async fn an_unusable_url_leaves_no_channel() {
        let key = PrincipalKey::new(SecretString::from("0123456789abcdef0123456789abcdef"));
        assert!(Peer::new("billing", "not a url", "content", key).channel().is_none());
    }
}
