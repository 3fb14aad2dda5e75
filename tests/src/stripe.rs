//! A local stand-in for Stripe's API: a real HTTP server on a loopback port
//! that answers the calls billing makes (customers, Checkout Sessions,
//! billing-portal sessions, subscription updates and immediate
//! cancellations) the way Stripe does —
//! form-encoded requests, JSON answers, the same answer again for a
//! repeated `Idempotency-Key` — and records every request, so tests can
//! check the auth header, the key and the form fields. It also signs
//! webhook bodies the way Stripe does (independently of billing's code).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::oneshot;

/// The secret key billing is configured with in tests.
pub const SECRET_KEY: &str = "sk_test_standin_0123456789";
/// The webhook signing secret billing is configured with in tests.
pub const WEBHOOK_SECRET: &str = "whsec_standin_0123456789abcdef";

/// The app's web origin that checkout and portal redirects may point at.
pub const ORIGIN: &str = "https://app.jazzmaster.test";

/// Billing's options against `stand_in`: its webhook secret, redirects to
/// [`ORIGIN`] or the app scheme, and its API key when `with_key`
/// (billing then makes no Stripe calls).
pub fn billing_options(stand_in: &StripeStandIn, with_key: bool) -> anyhow::Result<billing::config::BillingOptions> {
    use secrecy::SecretString;
    Ok(billing::config::BillingOptions {
        stripe: billing::config::StripeConfig {
            api_url: stand_in.url.clone(),
            secret_key: with_key.then(|| SecretString::from(SECRET_KEY.to_owned())),
            webhook_secret: Some(SecretString::from(WEBHOOK_SECRET.to_owned())),
            timeout: std::time::Duration::from_secs(3),
        },
        redirects: billing::domain::redirect::RedirectRules::new(&[ORIGIN], "jazzmaster")?,
    })
}

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, `DELETE`, …
    pub method: String,
    /// e.g. `/v1/checkout/sessions`.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The decoded form fields, in order.
    pub form: Vec<(String, String)>,
}

impl Recorded {
    /// The first value of form field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    /// Idempotency-Key → the first answer (Stripe replays it).
    replies: HashMap<String, (u16, Value)>,
    /// When set, every call answers this status (Stripe down or refusing).
    fail: Option<u16>,
    next: u64,
}

/// A running stand-in; dropping it stops the server.
pub struct StripeStandIn {
    /// Its base URL (`http://127.0.0.1:<port>`), billing's `STRIPE_API_URL`.
    pub url: String,
    state: Arc<Mutex<State>>,
    _stop: oneshot::Sender<()>,
}

impl StripeStandIn {
    /// Starts the stand-in on a loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(State::default()));
        let (handler_state, base) = (state.clone(), url.clone());
        let app = axum::Router::new().fallback(
            move |method: http::Method, uri: http::Uri, headers: http::HeaderMap, body: axum::body::Bytes| {
                let (state, base) = (handler_state.clone(), base.clone());
                async move { answer(&state, &base, method, uri, &headers, &body) }
            },
        );
        let stop = crate::serve_stand_in(listener, app);
        Ok(Self { url, state, _stop: stop })
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().map(|s| s.requests.clone()).unwrap_or_default()
    }

    /// The requests to paths starting with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path.starts_with(prefix)).collect()
    }

    /// From now on answer every call with `status` (e.g. 503: Stripe down;
    /// 400: a refusal), or normally again with `None`.
    pub fn fail_with(&self, status: Option<u16>) {
        if let Ok(mut state) = self.state.lock() {
            state.fail = status;
        }
    }
}

fn answer(
    state: &Mutex<State>,
    base: &str,
    method: http::Method,
    uri: http::Uri,
    headers: &http::HeaderMap,
    body: &[u8],
) -> (http::StatusCode, axum::Json<Value>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        content_type: header("content-type"),
        form: form_decode(body),
    };
    let Ok(mut state) = state.lock() else {
        return (http::StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({})));
    };
    state.requests.push(recorded.clone());
    let reply = |status: u16, value: Value| {
        (http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR), axum::Json(value))
    };
    if let Some(status) = state.fail {
        let error = json!({"error": {"type": "api_error", "code": "standin_failure",
                                     "message": "stand-in secret detail: do not show this to clients"}});
        return reply(status, error);
    }
    if recorded.authorization.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return reply(401, json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}));
    }
    if let Some(key) = &recorded.idempotency_key
        && let Some((status, value)) = state.replies.get(key)
    {
        return reply(*status, value.clone());
    }
    state.next += 1;
    let n = state.next;
    let now = seconds();
    let path = recorded.path.as_str();
    let (status, value) = match path {
        "/v1/customers" => (
            200,
            json!({"id": format!("cus_test_{n}"), "object": "customer",
                         "metadata": {"user_id": recorded.field("metadata[user_id]")}}),
        ),
        "/v1/checkout/sessions" => (
            200,
            json!({"id": format!("cs_test_{n}"), "object": "checkout.session",
                                               "url": format!("{base}/c/pay/cs_test_{n}"), "expires_at": now + 86_400,
                                               "mode": recorded.field("mode")}),
        ),
        "/v1/billing_portal/sessions" => (
            200,
            json!({"id": format!("bps_test_{n}"), "object": "billing_portal.session",
                                                     "url": format!("{base}/p/session/bps_test_{n}")}),
        ),
        _ if path.starts_with("/v1/subscriptions/") && method == http::Method::DELETE => {
            // An immediate cancellation (Stripe's DELETE).
            let id = path.trim_start_matches("/v1/subscriptions/");
            (
                200,
                json!({"id": id, "object": "subscription", "status": "canceled", "cancel_at_period_end": false,
                         "canceled_at": now, "ended_at": now}),
            )
        }
        _ if path.starts_with("/v1/subscriptions/") => {
            let id = path.trim_start_matches("/v1/subscriptions/");
            let cancel = recorded.field("cancel_at_period_end") == Some("true");
            (200, json!({"id": id, "object": "subscription", "status": "active", "cancel_at_period_end": cancel}))
        }
        _ => (404, json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}})),
    };
    if let Some(key) = recorded.idempotency_key {
        state.replies.insert(key, (status, value.clone()));
    }
    reply(status, value)
}

/// `application/x-www-form-urlencoded` → pairs.
fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
            match byte {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(value) => {
                            out.push(value);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Seconds since the epoch.
pub fn seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The `Stripe-Signature` header Stripe sends for `payload` at `t`, signed
/// with `secret`.
pub fn signature(payload: &[u8], secret: &str, t: i64) -> anyhow::Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(format!("{t}.").as_bytes());
    mac.update(payload);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("t={t},v1={hex}"))
}

/// An event body as Stripe sends it.
pub fn event(id: &str, event_type: &str, created: i64, object: Value) -> Vec<u8> {
    json!({"id": id, "object": "event", "api_version": "2024-06-20", "type": event_type, "created": created,
           "livemode": false, "data": {"object": object}})
    .to_string()
    .into_bytes()
}

/// A subscription object (the older API shape: period on the subscription).
pub fn subscription(
    id: &str,
    customer: &str,
    user: &str,
    price: &str,
    status: &str,
    cancel_at_period_end: bool,
) -> Value {
    let start = seconds() - 86_400;
    json!({"id": id, "object": "subscription", "customer": customer, "status": status,
           "cancel_at_period_end": cancel_at_period_end, "canceled_at": null,
           "current_period_start": start, "current_period_end": start + 30 * 86_400,
           "trial_start": null, "trial_end": null, "metadata": {"user_id": user},
           "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": price, "object": "price"}}]}})
}
