//! Forwarding: a public call goes to its service over a pooled HTTP/2
//! channel, body untouched (no decode, no re-encode), with a principal the
//! gateway signed in place of whatever the client sent.

use std::sync::Arc;

use axum::body::Body as AxumBody;
use jazz_platform::principal::{PRINCIPAL_HEADER, Principal, PrincipalKey};
use jazz_platform::server::REQUEST_ID_HEADER;
use tonic::transport::Channel;
use tonic::transport::server::TcpConnectInfo;
use tower::ServiceExt as _;

use crate::auth::{Authenticator, Session};
use crate::limits::RateLimiters;

/// What every forwarded call needs.
#[derive(Clone)]
pub struct Forwarder {
    /// Signs the principal for the service.
    pub key: Arc<PrincipalKey>,
    /// Checks bearer tokens.
    pub auth: Authenticator,
    /// Rate limits per address and per user.
    pub limits: Arc<RateLimiters>,
}

impl Forwarder {
    /// Forwards `request` to `channel` and relays the answer.
    pub async fn forward(&self, channel: Channel, request: http::Request<AxumBody>) -> http::Response<AxumBody> {
        let (mut parts, body) = request.into_parts();
        let client_ip = client_ip(&parts);
        if let Err(status) = self.limits.check_address(parts.uri.path(), client_ip).await {
            return status.into_http();
        }
        let session = match self.auth.authenticate(parts.uri.path(), &parts.headers).await {
            Ok(session) => session,
            Err(status) => return status.into_http(),
        };
        if let Some(session) = session
            && let Err(status) = self.limits.check_user(session.user_id).await
        {
            return status.into_http();
        }
        let principal = self.principal_for(&parts, session);
        // A client-supplied principal is never passed on: only ours counts;
        // and the session token stops here.
        parts.headers.remove(PRINCIPAL_HEADER);
        parts.headers.remove(http::header::AUTHORIZATION);
        match self.key.sign(&principal).parse() {
            Ok(value) => {
                parts.headers.insert(PRINCIPAL_HEADER, value);
            }
            Err(_) => return tonic::Status::internal("could not sign the principal").into_http(),
        }
        jazz_platform::telemetry::inject(&mut parts.headers);
        let request = http::Request::from_parts(parts, tonic::body::Body::new(body));
        match channel.oneshot(request).await {
            Ok(response) => response.map(AxumBody::new),
            Err(error) => {
                tracing::warn!(%error, "backend unreachable");
                tonic::Status::unavailable("service temporarily unavailable; retry the call").into_http()
            }
        }
    }

    /// The principal for this call: the session's user, and the request
    /// id, client address and user agent as the gateway saw them.
    fn principal_for(&self, parts: &http::request::Parts, session: Option<Session>) -> Principal {
        let header = |name: &http::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let request_id = header(&REQUEST_ID_HEADER).unwrap_or_default();
        let mut principal = match session {
            Some(session) => Principal::user(session.user_id, session.session_id, request_id),
            None => Principal::anonymous(request_id),
        };
        principal.client_ip = client_ip(parts).map(|ip| ip.to_string());
        principal.user_agent = header(&http::header::USER_AGENT);
        principal
    }
}

/// The client's address as this process saw the connection.
fn client_ip(parts: &http::request::Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<TcpConnectInfo>().and_then(TcpConnectInfo::remote_addr).map(|addr| addr.ip())
}
