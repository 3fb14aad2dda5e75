//! What the Stripe-facing handlers share: the client, the redirect rules
//! and the webhook secret, plus the Idempotency-Key reservations that every
//! creating or changing Stripe call makes before it is sent.

use diesel_async::AsyncPgConnection;
use jazz_platform::ids::{new_id, to_api};
use secrecy::SecretString;

use crate::config::BillingOptions;
use crate::domain::redirect::RedirectRules;
use crate::error::BillingError;
use crate::store::stripe_keys;
use crate::stripe::StripeClient;

/// Billing's way to Stripe.
#[derive(Debug, Clone)]
pub struct Payments {
    /// The API client.
    pub stripe: StripeClient,
    /// Allowed redirect URLs.
    pub redirects: RedirectRules,
    /// The webhook signing secret.
    pub webhook_secret: Option<SecretString>,
}

impl Payments {
    /// From billing's options; fails only if TLS cannot be set up.
    pub fn new(options: &BillingOptions) -> anyhow::Result<Self> {
        Ok(Self {
            stripe: StripeClient::new(&options.stripe)?,
            redirects: options.redirects.clone(),
            webhook_secret: options.stripe.webhook_secret.clone(),
        })
    }
}

/// The key for an operation that has no request id of its own (creating
/// the customer, changing `cancel_at_period_end`): the open reservation in
/// `scope` made for the same arguments (`hash`), else a new one — an open
/// reservation for other arguments is superseded. Call it in a transaction
/// that commits before the Stripe call.
pub async fn reserve_key(conn: &mut AsyncPgConnection, scope: &str, hash: &[u8]) -> Result<String, BillingError> {
    for open in stripe_keys::open_in(conn, scope).await? {
        if open.request_hash.as_deref() == Some(hash) {
            return Ok(open.key);
        }
        stripe_keys::release(conn, scope, &open.key).await?;
    }
    let key = to_api(new_id());
    stripe_keys::reserve(conn, scope, &key, hash).await?;
    Ok(key)
}
