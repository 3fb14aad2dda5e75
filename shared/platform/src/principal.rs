//! The signed principal: who is calling, as vouched for by the gateway (for
//! a user) or by a peer service (for service-to-service calls).
//!
//! The gateway authenticates the bearer token once and forwards a compact,
//! HMAC-SHA256-signed statement in the `x-jazz-principal` header. Every
//! service verifies it before any handler runs ([`PrincipalInterceptor`]),
//! so a user id is believed only when a holder of the shared key signed it.
//! Services never see, and so can never log, the session token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tonic::{Request, Status};
use uuid::Uuid;

/// The metadata key that carries the signed principal.
pub const PRINCIPAL_HEADER: &str = "x-jazz-principal";

/// How long a principal signed for one call stays valid: long enough for the
/// call's own deadline, short enough that a captured header is soon useless.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(60);

/// Who is calling, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The signed-in user, if any (absent for sign-up, sign-in, public feeds).
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The session the user authenticated with, if any.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// The calling service for service-to-service calls (`billing`, …).
    #[serde(rename = "svc", default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Unix seconds after which the principal is refused.
    #[serde(rename = "exp")]
    pub expires_at: u64,
    /// The request id the gateway assigned, for logs and audit entries.
    #[serde(rename = "rid", default)]
    pub request_id: String,
    /// The end client's address as the gateway saw it.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// The end client's user agent.
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Principal {
    /// A principal for an anonymous end user (no session yet).
    pub fn anonymous(request_id: impl Into<String>) -> Self {
        Self {
            user_id: None,
            session_id: None,
            service: None,
            expires_at: now_unix() + PRINCIPAL_TTL.as_secs(),
            request_id: request_id.into(),
            client_ip: None,
            user_agent: None,
        }
    }

    /// A principal for a signed-in user.
    pub fn user(user_id: Uuid, session_id: Uuid, request_id: impl Into<String>) -> Self {
        Self { user_id: Some(user_id), session_id: Some(session_id), ..Self::anonymous(request_id) }
    }

    /// A principal for a service calling a peer.
    pub fn service(name: &str) -> Self {
        Self { service: Some(name.to_owned()), ..Self::anonymous(ulid::Ulid::generate().to_string()) }
    }

    /// The signed-in user, or UNAUTHENTICATED for calls that need one.
    pub fn require_user(&self) -> Result<Uuid, Status> {
        self.user_id.ok_or_else(|| Status::unauthenticated("sign in first: this call needs a session"))
    }

    /// The calling service, or PERMISSION_DENIED: internal methods accept
    /// only service principals, never a user's.
    pub fn require_service(&self) -> Result<&str, Status> {
        self.service.as_deref().ok_or_else(|| Status::permission_denied("internal method"))
    }
}

/// Why a principal header was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrincipalError {
    /// No header at all.
    #[error("missing principal")]
    Missing,
    /// Not `payload.signature`, bad base64 or bad JSON.
    #[error("malformed principal")]
    Malformed,
    /// The signature does not match: forged or signed with another key.
    #[error("bad principal signature")]
    BadSignature,
    /// Past its expiry.
    #[error("expired principal")]
    Expired,
}

/// The shared HMAC key that signs and verifies principals.
#[derive(Clone)]
pub struct PrincipalKey {
    secret: SecretString,
}

impl std::fmt::Debug for PrincipalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrincipalKey(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl PrincipalKey {
    /// A key from the configured secret.
    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        match HmacSha256::new_from_slice(self.secret.expose_secret().as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
        }
    }

    /// `base64url(json) "." base64url(hmac)`.
    pub fn sign(&self, principal: &Principal) -> String {
        // Serializing a struct of strings and numbers cannot fail.
        let json = serde_json::to_vec(principal).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// Checks the signature (in constant time) and expiry of a header value.
    pub fn verify(&self, header: &str) -> Result<Principal, PrincipalError> {
        let (payload, signature) = header.split_once('.').ok_or(PrincipalError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| PrincipalError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| PrincipalError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| PrincipalError::Malformed)?;
        let principal: Principal = serde_json::from_slice(&json).map_err(|_| PrincipalError::Malformed)?;
        if principal.expires_at < now_unix() {
            return Err(PrincipalError::Expired);
        }
        Ok(principal)
    }

    /// Puts a signed `principal` on an outgoing request.
    pub fn attach<T>(&self, request: &mut Request<T>, principal: &Principal) {
        if let Ok(value) = self.sign(principal).parse() {
            request.metadata_mut().insert(PRINCIPAL_HEADER, value);
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A tonic interceptor that refuses any call without a valid principal and
/// stores the verified [`Principal`] in the request's extensions.
#[derive(Clone, Debug)]
pub struct PrincipalInterceptor {
    key: PrincipalKey,
}

impl PrincipalInterceptor {
    /// An interceptor verifying with `key`.
    pub fn new(key: PrincipalKey) -> Self {
        Self { key }
    }
}

impl tonic::service::Interceptor for PrincipalInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get(PRINCIPAL_HEADER)
            .ok_or(PrincipalError::Missing)
            .and_then(|value| value.to_str().map_err(|_| PrincipalError::Malformed));
        match header.and_then(|value| self.key.verify(value)) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                Ok(request)
            }
            Err(error) => {
                tracing::warn!(%error, "refused call without a valid principal");
                Err(Status::unauthenticated("missing or invalid caller credentials"))
            }
        }
    }
}

/// The principal the interceptor verified for this request.
pub fn principal_of<T>(request: &Request<T>) -> Result<&Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| Status::unauthenticated("missing or invalid caller credentials"))
}

/// The body of a handler for signed-in users: checks the verified
/// principal names a user, then answers `$function(api, &principal,
/// user_id, message).await` (its error converted into a `Status`).
#[macro_export]
macro_rules! as_user {
    ($self:ident, $request:ident, $function:path) => {{
        let principal = $crate::principal::principal_of(&$request)?.clone();
        let me = principal.require_user()?;
        let message = $request.into_inner();
        Ok(tonic::Response::new($function($self, &principal, me, message).await?))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::service::Interceptor;

    fn key(secret: &str) -> PrincipalKey {
        PrincipalKey::new(SecretString::from(secret.to_owned()))
    }

    #[test]
    fn a_signed_principal_verifies() {
        let k = key("0123456789abcdef0123456789abcdef");
        let p = Principal::user(crate::ids::new_id(), crate::ids::new_id(), "req-1");
        assert_eq!(k.verify(&k.sign(&p)), Ok(p));
    }

    #[test]
    fn forged_tampered_and_expired_principals_are_refused() {
        let k = key("0123456789abcdef0123456789abcdef");
        let other = key("another-key-another-key-another-key");
        let p = Principal::user(crate::ids::new_id(), crate::ids::new_id(), "req-1");
        assert_eq!(k.verify(&other.sign(&p)), Err(PrincipalError::BadSignature));

        let signed = k.sign(&p);
        let (_, sig) = signed.split_once('.').unwrap_or_default();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(br#"{"u":"00000000-0000-0000-0000-000000000001","exp":99999999999}"#);
        assert_eq!(k.verify(&format!("{forged_payload}.{sig}")), Err(PrincipalError::BadSignature));

        let expired = Principal { expires_at: now_unix() - 1, ..p };
        assert_eq!(k.verify(&k.sign(&expired)), Err(PrincipalError::Expired));
        assert_eq!(k.verify("garbage"), Err(PrincipalError::Malformed));
    }

    #[test]
    fn the_interceptor_refuses_calls_without_a_principal() {
        let k = key("0123456789abcdef0123456789abcdef");
        let mut interceptor = PrincipalInterceptor::new(k.clone());
        let refused = interceptor.call(Request::new(()));
        assert_eq!(refused.err().map(|s| s.code()), Some(tonic::Code::Unauthenticated));

        let mut request = Request::new(());
        k.attach(&mut request, &Principal::service("billing"));
        let accepted = interceptor.call(request).ok();
        let service = accepted.as_ref().and_then(|r| principal_of(r).ok()).and_then(|p| p.service.clone());
        assert_eq!(service.as_deref(), Some("billing"));
    }
}
