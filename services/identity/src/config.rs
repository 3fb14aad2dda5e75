//! Identity's own settings, read from the environment next to the shared
//! [`jazz_platform::ServiceConfig`] (which identity does not own):
//!
//! | variable | meaning |
//! |---|---|
//! | `ACCOUNT_TOKEN_KEY` | 32 random bytes, base64 (`openssl rand -base64 32`): the key that seals linked accounts' provider tokens at rest. Malformed → the service refuses to start. Unset (or empty) → a random key for this process only, with a warning: tokens linked meanwhile cannot be opened after a restart (fine for `make run` and tests, never for production). |
//! | `PURGE_INTERVAL_MS` | how often the purge of deleted accounts runs (default one hour; it also runs once at start). |
//! | `OAUTH_<PROVIDER>_ISSUER`, `OAUTH_<PROVIDER>_CLIENT_IDS` | the sign-in providers LinkAccount accepts ([`crate::oauth::oidc`]); none by default |

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::domain::sealed::TokenCipher;
use crate::oauth::ProviderVerifier;
use crate::oauth::oidc::OidcVerifier;

/// The variable holding the provider-token key.
pub const TOKEN_KEY_VAR: &str = "ACCOUNT_TOKEN_KEY";
/// The variable overriding the purge interval.
pub const PURGE_INTERVAL_VAR: &str = "PURGE_INTERVAL_MS";
/// How often the purge runs by default.
pub const DEFAULT_PURGE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// What identity needs beyond the shared service configuration.
#[derive(Clone)]
pub struct IdentityOptions {
    /// Seals provider tokens.
    pub token_cipher: TokenCipher,
    /// Checks provider tokens in LinkAccount.
    pub verifier: Arc<dyn ProviderVerifier>,
    /// How often the purge of deleted accounts runs.
    pub purge_interval: Duration,
}

impl IdentityOptions {
    /// Options from the environment (see the module table).
    pub fn from_env() -> anyhow::Result<Self> {
        let verifier = OidcVerifier::from_env()?;
        tracing::info!(providers = ?verifier.configured(), "sign-in providers for LinkAccount");
        Ok(Self {
            token_cipher: token_cipher_from_env()?,
            verifier: Arc::new(verifier),
            purge_interval: purge_interval_from_env()?,
        })
    }
}

/// The provider-token key from `ACCOUNT_TOKEN_KEY`, or a per-process random
/// key (with a warning) when it is unset.
pub fn token_cipher_from_env() -> anyhow::Result<TokenCipher> {
    match std::env::var(TOKEN_KEY_VAR) {
        Ok(text) if !text.trim().is_empty() => TokenCipher::from_base64(&text).map_err(|error| {
            anyhow::anyhow!("{TOKEN_KEY_VAR} {error}: it must be 32 random bytes in base64 (openssl rand -base64 32)")
        }),
        Ok(_) | Err(std::env::VarError::NotPresent) => {
            tracing::warn!(
                "{TOKEN_KEY_VAR} is not set: provider tokens are sealed with a random per-process key, and \
                 tokens of accounts linked now cannot be opened after a restart (set it in production)"
            );
            TokenCipher::random().context("making a random provider-token key")
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            anyhow::bail!("{TOKEN_KEY_VAR} is not valid UTF-8: it must be 32 random bytes in base64")
        }
    }
}

/// `PURGE_INTERVAL_MS`, or one hour.
pub fn purge_interval_from_env() -> anyhow::Result<Duration> {
    match std::env::var(PURGE_INTERVAL_VAR) {
        Ok(text) => {
            let ms: u64 = text
                .trim()
                .parse()
                .ok()
                .filter(|ms| *ms > 0)
                .with_context(|| format!("{PURGE_INTERVAL_VAR} must be a positive number of milliseconds"))?;
            Ok(Duration::from_millis(ms))
        }
        Err(_) => Ok(DEFAULT_PURGE_INTERVAL),
    }
}
