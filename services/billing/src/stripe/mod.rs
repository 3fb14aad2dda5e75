//! Stripe: the API calls billing makes ([`StripeClient`]), the webhook
//! signature check ([`signature`]) and the events it reads ([`event`]).
//!
//! Every call that creates or changes something carries an
//! `Idempotency-Key` chosen (and stored) by the caller before the call, so a
//! retry after a timeout or a crash acts once at Stripe. No Stripe answer
//! text reaches a client: errors keep only the HTTP status and Stripe's
//! error code, which are logged.

pub mod event;
pub mod signature;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use jazz_platform::http::{HttpClient, HttpError, HttpResponse};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::config::StripeConfig;

/// Why a Stripe call failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StripeError {
    /// No secret key configured.
    #[error("Stripe is not configured")]
    NotConfigured,
    /// Stripe could not be reached, timed out or answered 5xx/429: retry.
    #[error("Stripe unavailable: {0}")]
    Unavailable(String),
    /// Another request with the same Idempotency-Key is in flight (409).
    #[error("Stripe: concurrent request with the same idempotency key")]
    Conflict,
    /// Stripe refused the request (4xx); `code` is Stripe's error code.
    #[error("Stripe refused the request: HTTP {status} ({code})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Stripe's `error.code` or `error.type`, for the log.
        code: String,
    },
    /// Stripe refused our key (401/403): a deployment problem.
    #[error("Stripe refused the API key: HTTP {0}")]
    Unauthorized(u16),
    /// A 2xx answer we cannot read.
    #[error("unexpected Stripe answer: {0}")]
    BadAnswer(String),
}

/// A Checkout Session as far as we read it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The page to open.
    pub url: String,
    /// Unix seconds when the session expires.
    pub expires_at: i64,
}

/// A billing-portal session.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PortalSession {
    /// `bps_…`.
    pub id: String,
    /// The page to open.
    pub url: String,
}

/// A customer.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
}

/// A subscription, after an update.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SubscriptionObject {
    /// `sub_…`.
    pub id: String,
    /// Whether it ends at the period end.
    pub cancel_at_period_end: bool,
}

/// A subscription after an immediate cancellation.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CanceledSubscription {
    /// `sub_…`.
    pub id: String,
    /// Stripe's status, `canceled` once done.
    pub status: String,
}

/// What a checkout needs.
#[derive(Debug, Clone)]
pub struct CheckoutParams<'a> {
    /// The Stripe customer.
    pub customer: &'a str,
    /// The tier's price.
    pub price: &'a str,
    /// Our user (ULID): `client_reference_id` and metadata.
    pub user: &'a str,
    /// Our tier, as metadata.
    pub tier: &'a str,
    /// Where Stripe sends the browser after payment.
    pub success_url: &'a str,
    /// Where it goes if the user gives up.
    pub cancel_url: &'a str,
}

/// Billing's Stripe API client (cheap to clone).
#[derive(Debug, Clone)]
pub struct StripeClient {
    api_url: String,
    secret_key: Option<SecretString>,
    http: HttpClient,
}

impl StripeClient {
    /// A client for `config`; fails only if TLS cannot be set up.
    pub fn new(config: &StripeConfig) -> Result<Self, HttpError> {
        Ok(Self {
            api_url: config.api_url.clone(),
            secret_key: config.secret_key.clone(),
            http: HttpClient::new(config.timeout)?,
        })
    }

    /// Creates a customer for our user (metadata `user_id`).
    pub async fn create_customer(&self, user: &str, idempotency_key: &str) -> Result<Customer, StripeError> {
        self.post("/v1/customers", idempotency_key, &[("metadata[user_id]", user)]).await
    }

    /// Creates a subscription-mode Checkout Session for one price.
    pub async fn create_checkout_session(
        &self,
        params: &CheckoutParams<'_>,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let fields = [
            ("mode", "subscription"),
            ("customer", params.customer),
            ("line_items[0][price]", params.price),
            ("line_items[0][quantity]", "1"),
            ("success_url", params.success_url),
            ("cancel_url", params.cancel_url),
            ("client_reference_id", params.user),
            ("metadata[user_id]", params.user),
            ("metadata[tier]", params.tier),
            // Subscription events then name our user even before the
            // checkout's own event arrives.
            ("subscription_data[metadata][user_id]", params.user),
        ];
        self.post("/v1/checkout/sessions", idempotency_key, &fields).await
    }

    /// Creates a billing-portal session for a customer.
    pub async fn create_portal_session(
        &self,
        customer: &str,
        return_url: &str,
        idempotency_key: &str,
    ) -> Result<PortalSession, StripeError> {
        let fields = [("customer", customer), ("return_url", return_url)];
        self.post("/v1/billing_portal/sessions", idempotency_key, &fields).await
    }

    /// Sets a subscription's `cancel_at_period_end`.
    pub async fn set_cancel_at_period_end(
        &self,
        subscription: &str,
        cancel: bool,
        idempotency_key: &str,
    ) -> Result<SubscriptionObject, StripeError> {
        check_id(subscription)?;
        let path = format!("/v1/subscriptions/{subscription}");
        let value = if cancel { "true" } else { "false" };
        self.post(&path, idempotency_key, &[("cancel_at_period_end", value)]).await
    }

    /// Cancels a subscription at once (`DELETE /v1/subscriptions/{id}`:
    /// no proration, no further invoices). Stripe treats DELETE as
    /// idempotent by itself; the key is sent all the same, so a retry is
    /// recognisable in Stripe's request log.
    pub async fn cancel_subscription(
        &self,
        subscription: &str,
        idempotency_key: &str,
    ) -> Result<CanceledSubscription, StripeError> {
        check_id(subscription)?;
        let headers = self.headers(idempotency_key)?;
        let url = format!("{}/v1/subscriptions/{subscription}", self.api_url);
        let mut request = http::Request::delete(url.as_str())
            .body(Bytes::new().into())
            .map_err(|_| StripeError::BadAnswer("STRIPE_API_URL is not requestable".into()))?;
        request.headers_mut().extend(headers);
        request.headers_mut().insert(http::header::ACCEPT, HeaderValue::from_static("application/json"));
        let response = self.http.send(request).await.map_err(transport)?;
        read(response)
    }

    /// The bearer and Idempotency-Key headers of a call.
    fn headers(&self, idempotency_key: &str) -> Result<HeaderMap, StripeError> {
        let key = self.secret_key.as_ref().ok_or(StripeError::NotConfigured)?;
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::try_from(format!("Bearer {}", key.expose_secret()))
            .map_err(|_| StripeError::Unauthorized(0))?;
        auth.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, auth);
        let idempotency =
            HeaderValue::try_from(idempotency_key).map_err(|_| StripeError::BadAnswer("bad idempotency key".into()))?;
        headers.insert("idempotency-key", idempotency);
        Ok(headers)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        idempotency_key: &str,
        fields: &[(&str, &str)],
    ) -> Result<T, StripeError> {
        let headers = self.headers(idempotency_key)?;
        let url = format!("{}{path}", self.api_url);
        let response = self.http.post_form(&url, headers, fields).await.map_err(transport)?;
        read(response)
    }
}

/// A stored Stripe id that is safe to put in a path.
fn check_id(id: &str) -> Result<(), StripeError> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StripeError::BadAnswer("stored subscription id is not a Stripe id".into()));
    }
    Ok(())
}

/// A request that got no answer.
fn transport(error: HttpError) -> StripeError {
    match error {
        HttpError::BadUrl => StripeError::BadAnswer("STRIPE_API_URL is not requestable".into()),
        other => StripeError::Unavailable(other.to_string()),
    }
}

/// Stripe's answer, judged by its status.
fn read<T: serde::de::DeserializeOwned>(response: HttpResponse) -> Result<T, StripeError> {
    let status = response.status.as_u16();
    match status {
        200..=299 => serde_json::from_slice(&response.body).map_err(|error| StripeError::BadAnswer(error.to_string())),
        401 | 403 => Err(StripeError::Unauthorized(status)),
        409 => Err(StripeError::Conflict),
        429 | 500..=599 => Err(StripeError::Unavailable(format!("HTTP {status}"))),
        _ => Err(StripeError::Refused { status, code: error_code(&response.body) }),
    }
}

/// Stripe's `error.code` (else `error.type`) from an error body, at most 64
/// characters of `[a-z0-9_]` — never its message, which may quote input.
fn error_code(body: &Bytes) -> String {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &parsed["error"];
    let code = error["code"].as_str().or_else(|| error["type"].as_str()).unwrap_or("unknown");
    code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_short_and_clean() {
        let body = Bytes::from_static(br#"{"error":{"code":"resource_missing","message":"No such price: 'x'"}}"#);
        assert_eq!(error_code(&body), "resource_missing");
        let body = Bytes::from_static(br#"{"error":{"type":"invalid_request_error"}}"#);
        assert_eq!(error_code(&body), "invalid_request_error");
        assert_eq!(error_code(&Bytes::from_static(b"<html>")), "unknown");
    }
}
