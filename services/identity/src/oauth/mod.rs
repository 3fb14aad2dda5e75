//! Checking a provider's tokens before an account is linked.
//!
//! The contract (`auth.proto`, LinkAccount) has the server verify the tokens
//! with the provider and take the provider account id from them; the client
//! never names the id itself, so nobody can link someone else's Google
//! account by typing its number. How a token is verified is the provider's
//! business (an OIDC ID token against the provider's signing keys and our
//! client id as audience; an OAuth access token against the provider's
//! token-info endpoint), so it sits behind [`ProviderVerifier`].
//!
//! [`oidc::OidcVerifier`] checks OpenID Connect ID tokens for the providers
//! configured in the environment (`OAUTH_<PROVIDER>_ISSUER` and
//! `OAUTH_<PROVIDER>_CLIENT_IDS`); a provider not configured is refused with
//! INVALID_ARGUMENT on `provider`, and nothing is stored.

pub mod oidc;

use crate::domain::providers::{Provider, ProviderTokens};

/// What a provider confirmed about the tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccount {
    /// The user's id at the provider (the OIDC `sub`), 1–255 characters.
    pub provider_account_id: String,
    /// `oidc` or `oauth`.
    pub kind: &'static str,
}

/// Why a provider's tokens were not accepted.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// This server has no configuration for the provider.
    #[error("provider not configured")]
    NotConfigured,
    /// The provider rejected the tokens (expired, wrong audience, forged).
    #[error("provider rejected the tokens")]
    Rejected,
    /// This provider is verified by its ID token, and none was sent.
    #[error("an ID token is required")]
    IdTokenRequired,
    /// The provider could not be reached; the client may retry.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
}

/// Verifies a provider's tokens and says whose they are.
#[tonic::async_trait]
pub trait ProviderVerifier: Send + Sync + 'static {
    /// The account the tokens belong to, or why they are not accepted.
    async fn verify(&self, provider: Provider, tokens: &ProviderTokens) -> Result<VerifiedAccount, VerifyError>;
}
