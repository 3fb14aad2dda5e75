//! Authentication at the edge: the bearer token is checked once, here, with
//! identity's `ValidateSession`; services only ever see the signed principal.
//!
//! Answers are cached for a few seconds (`AUTH_CACHE_TTL_MS`, default 5 s)
//! so a burst of calls costs one lookup, while a revoked session is refused
//! within that time. The cache key is the token's SHA-256, not the token.
//! Lookups count in `gateway_session_cache_hits_total` and
//! `gateway_session_cache_misses_total`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jazz_contract::jazz::identity::v1::ValidateSessionRequest;
use jazz_contract::jazz::identity::v1::identity_internal_service_client::IdentityInternalServiceClient;
use jazz_platform::principal::{Principal, PrincipalKey};
use sha2::{Digest, Sha256};
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

/// Largest number of cached sessions before the cache is emptied.
const CACHE_CAPACITY: usize = 100_000;

/// The signed-in caller, as identity vouched for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user_id: Uuid,
    /// The session the token belongs to.
    pub session_id: Uuid,
}

/// Validated sessions by token digest, each with the time it expires from the cache.
type SessionCache = HashMap<[u8; 32], (Session, Instant)>;

/// Validates bearer tokens with identity, with a short cache.
#[derive(Clone)]
pub struct Authenticator {
    identity: IdentityInternalServiceClient<Channel>,
    key: Arc<PrincipalKey>,
    ttl: Duration,
    cache: Arc<Mutex<SessionCache>>,
}

impl Authenticator {
    /// An authenticator calling identity over `channel`.
    pub fn new(channel: Channel, key: Arc<PrincipalKey>, ttl: Duration) -> Self {
        Self { identity: IdentityInternalServiceClient::new(channel), key, ttl, cache: Arc::default() }
    }

    /// Who is calling `path` with these headers: `Ok(None)` for an
    /// anonymous call to a method that allows it, UNAUTHENTICATED for a
    /// missing, malformed, expired or revoked token.
    pub async fn authenticate(&self, path: &str, headers: &http::HeaderMap) -> Result<Option<Session>, Status> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return if crate::routes::access::anonymous(path) {
                Ok(None)
            } else {
                Err(Status::unauthenticated("this call needs a session: send authorization: Bearer <token>"))
            };
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 512)
            .ok_or_else(|| Status::unauthenticated("malformed authorization header: expected Bearer <token>"))?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(session) = self.cached(&digest) {
            metrics::counter!("gateway_session_cache_hits_total").increment(1);
            return Ok(Some(session));
        }
        metrics::counter!("gateway_session_cache_misses_total").increment(1);
        let session = self.validate(token).await?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(digest, (session, Instant::now() + self.ttl));
        }
        Ok(Some(session))
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Session> {
        let cache = self.cache.lock().ok()?;
        cache.get(digest).filter(|(_, until)| *until > Instant::now()).map(|(session, _)| *session)
    }

    async fn validate(&self, token: &str) -> Result<Session, Status> {
        let mut request = tonic::Request::new(ValidateSessionRequest { session_token: token.to_owned() });
        request.set_timeout(Duration::from_secs(2));
        self.key.attach(&mut request, &Principal::service("gateway"));
        jazz_platform::telemetry::inject_metadata(request.metadata_mut());
        let answer = self.identity.clone().validate_session(request).await.map_err(|status| match status.code() {
            tonic::Code::Unauthenticated | tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                Status::unauthenticated("invalid or expired session")
            }
            _ => {
                tracing::warn!(code = ?status.code(), "session validation unavailable");
                Status::unavailable("sign-in temporarily unavailable; retry the call")
            }
        })?;
        let answer = answer.into_inner();
        let parse = |id: &str| jazz_platform::ids::parse_id("id", id).ok();
        match (parse(&answer.user_id), parse(&answer.session_id)) {
            (Some(user_id), Some(session_id)) if answer.is_active => Ok(Session { user_id, session_id }),
            _ => Err(Status::unauthenticated("invalid or expired session")),
        }
    }
}
