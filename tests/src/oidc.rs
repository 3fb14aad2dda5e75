//! A local stand-in for an OpenID Connect provider (Google, Apple): a real
//! HTTP server on a loopback port serving the discovery document and the
//! key set, and ID tokens signed with the provider's test key, so identity's
//! real verifier ([`identity::oauth::oidc::OidcVerifier`]) is tested end to
//! end. The keys in `tests/fixtures/oidc` are test keys and nothing else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The provider's signing key (published in its key set).
const PROVIDER_KEY: &str = include_str!("../fixtures/oidc/provider.pem");
/// A key nobody published (for forged tokens).
const ATTACKER_KEY: &str = include_str!("../fixtures/oidc/attacker.pem");
/// The moduli of both keys, base64url.
const MODULI: &str = include_str!("../fixtures/oidc/moduli.json");

/// The client id the stand-in's tokens are issued for by default.
pub const CLIENT_ID: &str = "jazzmaster-ios.apps.example";

/// Which key signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The provider's published key.
    Provider,
    /// A key the provider never published.
    Attacker,
}

/// A running stand-in; dropping it stops the server.
pub struct OidcStandIn {
    /// The issuer URL (`http://127.0.0.1:<port>`).
    pub issuer: String,
    key_set_reads: Arc<AtomicUsize>,
    published_kid: Arc<std::sync::Mutex<String>>,
    _stop: oneshot::Sender<()>,
}

fn modulus(name: &str) -> anyhow::Result<String> {
    let moduli: Value = serde_json::from_str(MODULI)?;
    moduli[name].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no modulus {name}"))
}

impl OidcStandIn {
    /// Starts the stand-in on a loopback port; its key set publishes the
    /// provider key under the id `key-1`.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let issuer = format!("http://{}", listener.local_addr()?);
        let key_set_reads = Arc::new(AtomicUsize::new(0));
        let published_kid = Arc::new(std::sync::Mutex::new("key-1".to_owned()));
        let n = modulus("provider")?;
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/keys"),
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let reads = key_set_reads.clone();
        let kid = published_kid.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route(
                "/keys",
                axum::routing::get(move || {
                    reads.fetch_add(1, Ordering::SeqCst);
                    let kid = kid.lock().map(|k| k.clone()).unwrap_or_default();
                    let n = n.clone();
                    async move {
                        axum::Json(json!({ "keys": [
                            { "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": "AQAB" }
                        ]}))
                    }
                }),
            );
        let stop = crate::serve_stand_in(listener, app);
        Ok(Self { issuer, key_set_reads, published_kid, _stop: stop })
    }

    /// How many times the key set was read.
    pub fn key_set_reads(&self) -> usize {
        self.key_set_reads.load(Ordering::SeqCst)
    }

    /// Publishes the provider key under another id (a key rotation).
    pub fn rotate_to(&self, kid: &str) {
        if let Ok(mut published) = self.published_kid.lock() {
            *published = kid.to_owned();
        }
    }

    /// A valid ID token for `sub`, issued for [`CLIENT_ID`], signed with the
    /// published key `key-1`, valid for ten minutes.
    pub fn id_token(&self, sub: &str) -> anyhow::Result<String> {
        self.token(Signer::Provider, "key-1", &self.claims(sub))
    }

    /// The standard claims of a token for `sub` (change them to test).
    pub fn claims(&self, sub: &str) -> Value {
        let now = chrono_seconds();
        json!({ "iss": self.issuer, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 600 })
    }

    /// `claims` signed by `signer` (RS256) under the key id `kid`.
    pub fn token(&self, signer: Signer, kid: &str, claims: &Value) -> anyhow::Result<String> {
        let pem = match signer {
            Signer::Provider => PROVIDER_KEY,
            Signer::Attacker => ATTACKER_KEY,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_pem(pem.as_bytes())?)?)
    }
}

/// Seconds since the epoch.
fn chrono_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
