//! OpenID Connect ID tokens, checked here against the provider's published
//! signing keys: no call to the provider per link, and no way to link
//! someone else's account by naming its id.
//!
//! Each configured provider has an issuer URL and the client ids of our
//! apps (iOS, Android and web each have one). At first use the verifier
//! reads `{issuer}/.well-known/openid-configuration` (whose `issuer` must be
//! the configured one, as OIDC Discovery requires) and the key set at its
//! `jwks_uri`, keeps the keys an hour, and reads them again early when a
//! token names a key it does not know (providers rotate keys), at most once
//! a minute. A token is accepted when it is signed (RS256 or ES256 only —
//! never `none` or an HMAC) by a key of the set, was issued by the issuer
//! for one of our client ids, and has not expired (a minute of leeway for
//! clock skew). Its `sub` is the provider account id.
//!
//! | variable | meaning |
//! |---|---|
//! | `OAUTH_GOOGLE_ISSUER`, `OAUTH_APPLE_ISSUER`, `OAUTH_FACEBOOK_ISSUER` | the provider's issuer URL: `https://accounts.google.com`, `https://appleid.apple.com`, `https://www.facebook.com` (Limited Login) |
//! | `OAUTH_GOOGLE_CLIENT_IDS`, … | comma-separated client ids the tokens must be issued for |
//!
//! A provider with only one of the two set stops the service at start.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jazz_platform::http::{HttpClient, HttpError};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{ProviderVerifier, VerifiedAccount, VerifyError};
use crate::domain::providers::{Provider, ProviderTokens};

/// How long a fetched key set is used before it is read again.
const KEYS_TTL: Duration = Duration::from_secs(60 * 60);
/// The shortest time between two reads of a key set (an unknown key id
/// cannot make us hammer the provider).
const MIN_REFRESH: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 60;
/// The deadline of one request to the provider.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Signature algorithms accepted (what Google, Apple and Facebook use).
const ALGORITHMS: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// One provider's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer URL (no trailing slash), e.g. `https://accounts.google.com`.
    pub issuer: String,
    /// The client ids tokens must be issued for (`aud`).
    pub client_ids: Vec<String>,
}

impl OidcConfig {
    /// Settings for `issuer` and `client_ids` (a trailing `/` of the issuer
    /// is dropped, empty client ids skipped).
    pub fn new(issuer: &str, client_ids: &[&str]) -> Self {
        Self {
            issuer: issuer.trim().trim_end_matches('/').to_owned(),
            client_ids: client_ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()).map(str::to_owned).collect(),
        }
    }

    /// The settings of `provider` from the environment: `None` when neither
    /// variable is set, an error when only one is or the issuer is no URL.
    pub fn from_env(provider: Provider) -> anyhow::Result<Option<Self>> {
        let name = provider.as_str().to_ascii_uppercase();
        let (issuer_var, clients_var) = (format!("OAUTH_{name}_ISSUER"), format!("OAUTH_{name}_CLIENT_IDS"));
        let read = |var: &str| std::env::var(var).ok().filter(|value| !value.trim().is_empty());
        match (read(&issuer_var), read(&clients_var)) {
            (None, None) => Ok(None),
            (Some(issuer), Some(clients)) => {
                let config = Self::new(&issuer, &clients.split(',').collect::<Vec<_>>());
                if !(config.issuer.starts_with("https://") || config.issuer.starts_with("http://")) {
                    anyhow::bail!("{issuer_var} must be an http(s) URL");
                }
                if config.client_ids.is_empty() {
                    anyhow::bail!("{clients_var} names no client id");
                }
                Ok(Some(config))
            }
            (Some(_), None) => anyhow::bail!("{issuer_var} is set but {clients_var} is not"),
            (None, Some(_)) => anyhow::bail!("{clients_var} is set but {issuer_var} is not"),
        }
    }
}

/// The claims read from an ID token (the rest are checked by the library).
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

/// The part of a discovery document used.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Default)]
struct KeyCache {
    jwks_uri: Option<String>,
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
}

/// One provider: its settings and the keys last read.
struct OidcProvider {
    config: OidcConfig,
    validation: HashMap<Algorithm, Validation>,
    http: HttpClient,
    cache: Mutex<KeyCache>,
}

fn unavailable(error: HttpError) -> VerifyError {
    VerifyError::Unavailable(error.to_string())
}

impl OidcProvider {
    fn new(config: OidcConfig, http: HttpClient) -> Self {
        // Google writes `iss` with or without the scheme; both name the
        // configured host.
        let bare = config.issuer.trim_start_matches("https://").to_owned();
        let validation = ALGORITHMS
            .into_iter()
            .map(|alg| {
                let mut v = Validation::new(alg);
                v.set_audience(&config.client_ids);
                v.set_issuer(&[config.issuer.as_str(), bare.as_str()]);
                v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                v.leeway = LEEWAY_SECONDS;
                (alg, v)
            })
            .collect();
        Self { config, validation, http, cache: Mutex::new(KeyCache::default()) }
    }

    /// The key `kid` names (or the only key, when the token names none),
    /// reading the key set when it is stale or lacks the key.
    async fn key(&self, kid: Option<&str>) -> Result<Jwk, VerifyError> {
        let pick = |keys: &[Jwk]| match kid {
            Some(kid) => keys.iter().find(|key| key.common.key_id.as_deref() == Some(kid)).cloned(),
            None if keys.len() == 1 => keys.first().cloned(),
            None => None,
        };
        let mut cache = self.cache.lock().await;
        let age = cache.fetched.map(|at| at.elapsed());
        let fresh = age.is_some_and(|age| age < KEYS_TTL);
        if fresh && let Some(key) = pick(&cache.keys) {
            return Ok(key);
        }
        if age.is_some_and(|age| age < MIN_REFRESH) {
            return Err(VerifyError::Rejected);
        }
        self.refresh(&mut cache).await?;
        pick(&cache.keys).ok_or(VerifyError::Rejected)
    }

    async fn refresh(&self, cache: &mut KeyCache) -> Result<(), VerifyError> {
        let jwks_uri = match &cache.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
                let discovery: Discovery = self.http.get_json(&url).await.map_err(unavailable)?;
                if discovery.issuer.trim_end_matches('/') != self.config.issuer {
                    return Err(VerifyError::Unavailable("the discovery document names another issuer".into()));
                }
                cache.jwks_uri = Some(discovery.jwks_uri.clone());
                discovery.jwks_uri
            }
        };
        let set: JwkSet = self.http.get_json(&jwks_uri).await.map_err(unavailable)?;
        cache.keys = set.keys;
        cache.fetched = Some(Instant::now());
        Ok(())
    }

    async fn verify(&self, id_token: &str) -> Result<VerifiedAccount, VerifyError> {
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| VerifyError::Rejected)?;
        let validation = self.validation.get(&header.alg).ok_or(VerifyError::Rejected)?;
        let jwk = self.key(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| VerifyError::Rejected)?;
        let data = jsonwebtoken::decode::<Claims>(id_token, &key, validation).map_err(|_| VerifyError::Rejected)?;
        let sub = data.claims.sub;
        if !(1..=255).contains(&sub.chars().count()) {
            return Err(VerifyError::Rejected);
        }
        Ok(VerifiedAccount { provider_account_id: sub, kind: "oidc" })
    }
}

/// Verifies ID tokens of the configured providers.
pub struct OidcVerifier {
    providers: HashMap<Provider, OidcProvider>,
}

impl OidcVerifier {
    /// A verifier for `providers` (the others are refused as not configured).
    pub fn new(providers: impl IntoIterator<Item = (Provider, OidcConfig)>) -> anyhow::Result<Self> {
        let http = HttpClient::new(FETCH_TIMEOUT)?.with_max_body(MAX_DOCUMENT_BYTES);
        let providers = providers
            .into_iter()
            .map(|(provider, config)| (provider, OidcProvider::new(config, http.clone())))
            .collect();
        Ok(Self { providers })
    }

    /// The providers configured in the environment (see the module table).
    pub fn from_env() -> anyhow::Result<Self> {
        let mut configured = Vec::new();
        for provider in Provider::ALL {
            if let Some(config) = OidcConfig::from_env(provider)? {
                configured.push((provider, config));
            }
        }
        Self::new(configured)
    }

    /// The names of the configured providers, for the start-up log.
    pub fn configured(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.providers.keys().map(|p| p.as_str()).collect();
        names.sort_unstable();
        names
    }
}

#[tonic::async_trait]
impl ProviderVerifier for OidcVerifier {
    async fn verify(&self, provider: Provider, tokens: &ProviderTokens) -> Result<VerifiedAccount, VerifyError> {
        let provider = self.providers.get(&provider).ok_or(VerifyError::NotConfigured)?;
        let id_token = tokens.id_token.as_deref().ok_or(VerifyError::IdTokenRequired)?;
        provider.verify(id_token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_trims_the_issuer_and_skips_empty_client_ids() {
        let config = OidcConfig::new(" https://accounts.google.com/ ", &["ios", " ", "android "]);
        assert_eq!(config.issuer, "https://accounts.google.com");
        assert_eq!(config.client_ids, ["ios", "android"]);
    }

    #[tokio::test]
    async fn malformed_and_unsigned_tokens_are_rejected_without_a_fetch() -> anyhow::Result<()> {
        // An issuer nobody listens on: reaching it would be Unavailable, so
        // Rejected proves the token was refused before any fetch.
        let verifier = OidcVerifier::new([(Provider::Google, OidcConfig::new("http://127.0.0.1:9", &["app"]))])?;
        let tokens = |id: &str| ProviderTokens::id_token_only(id.into());
        // {"alg":"none"} and {"alg":"HS256"} headers.
        for token in ["not-a-jwt", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"] {
            assert_eq!(verifier.verify(Provider::Google, &tokens(token)).await, Err(VerifyError::Rejected), "{token}");
        }
        assert_eq!(verifier.verify(Provider::Apple, &tokens("x")).await, Err(VerifyError::NotConfigured));
        let mut no_id = tokens("x");
        no_id.id_token = None;
        assert_eq!(verifier.verify(Provider::Google, &no_id).await, Err(VerifyError::IdTokenRequired));
        Ok(())
    }
}
