//! Billing's own settings, read from the environment next to the shared
//! [`jazz_platform::ServiceConfig`] (which billing does not own):
//!
//! | variable | meaning |
//! |---|---|
//! | `STRIPE_API_URL` | Stripe's API base (default `https://api.stripe.com`; tests point it at a local stand-in) |
//! | `STRIPE_SECRET_KEY` | the secret API key (`sk_…`/`rk_…`). Unset → checkout, portal and Stripe-backed cancel/resume answer UNAVAILABLE |
//! | `STRIPE_WEBHOOK_SECRET` | the webhook endpoint's signing secret (`whsec_…`). Unset → every webhook is refused with UNAVAILABLE (Stripe retries) |
//! | `STRIPE_TIMEOUT_MS` | longest Stripe call (default 8000, below the gRPC default of 10 s) |
//! | `BILLING_REDIRECT_ORIGINS` | comma-separated `https://host[:port]` origins that `success_url`, `cancel_url` and `return_url` may point at (default none) |
//! | `BILLING_APP_SCHEME` | the app's registered custom URL scheme, also accepted for redirects (default `jazzmaster`) |
//!
//! Secrets are [`SecretString`]s: no `Debug` or log line shows them.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;

use crate::domain::redirect::RedirectRules;

/// Stripe's API when `STRIPE_API_URL` is unset.
pub const DEFAULT_STRIPE_API_URL: &str = "https://api.stripe.com";
/// The longest Stripe call when `STRIPE_TIMEOUT_MS` is unset.
pub const DEFAULT_STRIPE_TIMEOUT: Duration = Duration::from_secs(8);
/// The app scheme when `BILLING_APP_SCHEME` is unset.
pub const DEFAULT_APP_SCHEME: &str = "jazzmaster";

/// How billing reaches Stripe and checks its webhooks.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// API base URL, without a trailing slash.
    pub api_url: String,
    /// The secret API key; `None` when Stripe calls are not configured.
    pub secret_key: Option<SecretString>,
    /// The webhook signing secret; `None` when webhooks are not configured.
    pub webhook_secret: Option<SecretString>,
    /// Deadline of each Stripe call.
    pub timeout: Duration,
}

/// What billing needs beyond the shared service configuration.
#[derive(Debug, Clone)]
pub struct BillingOptions {
    /// Stripe's API and webhook secrets.
    pub stripe: StripeConfig,
    /// Where checkout and portal may send the browser back to.
    pub redirects: RedirectRules,
}

impl BillingOptions {
    /// Options from the environment (see the module table).
    pub fn from_env() -> anyhow::Result<Self> {
        let api_url = var("STRIPE_API_URL")?.unwrap_or_else(|| DEFAULT_STRIPE_API_URL.to_owned());
        let api_url = api_url.trim_end_matches('/').to_owned();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            anyhow::bail!("STRIPE_API_URL must be an http(s) URL");
        }
        let timeout = match var("STRIPE_TIMEOUT_MS")? {
            None => DEFAULT_STRIPE_TIMEOUT,
            Some(text) => Duration::from_millis(
                text.parse().ok().filter(|ms| *ms > 0).context("STRIPE_TIMEOUT_MS must be a positive number")?,
            ),
        };
        let secret_key = var("STRIPE_SECRET_KEY")?.map(SecretString::from);
        let webhook_secret = var("STRIPE_WEBHOOK_SECRET")?.map(SecretString::from);
        if secret_key.is_none() {
            tracing::warn!("STRIPE_SECRET_KEY is not set: checkout and the billing portal answer UNAVAILABLE");
        }
        if webhook_secret.is_none() {
            tracing::warn!("STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks are refused");
        }
        let origins = var("BILLING_REDIRECT_ORIGINS")?.unwrap_or_default();
        let origins: Vec<&str> = origins.split(',').map(str::trim).filter(|o| !o.is_empty()).collect();
        let scheme = var("BILLING_APP_SCHEME")?.unwrap_or_else(|| DEFAULT_APP_SCHEME.to_owned());
        let redirects =
            RedirectRules::new(&origins, &scheme).context("BILLING_REDIRECT_ORIGINS / BILLING_APP_SCHEME")?;
        Ok(Self { stripe: StripeConfig { api_url, secret_key, webhook_secret, timeout }, redirects })
    }
}

/// A set, non-empty variable; `None` when unset or empty.
fn var(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{name} is not valid UTF-8"),
    }
}
