//! `POST /webhooks/stripe`: the one plain-HTTP endpoint. The raw body and
//! the `Stripe-Signature` header go to billing untouched (the signature is
//! over the exact bytes), which verifies, deduplicates and applies the
//! event. Stripe retries any non-2xx answer, so only a verified, recorded
//! event gets 200.

use std::time::Duration;

use axum::body::Body as AxumBody;
use jazz_contract::jazz::billing::v1::HandleStripeEventRequest;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_platform::{Principal, PrincipalKey};
use tonic::Code;
use tonic::transport::Channel;

/// The path Stripe is configured to call.
pub const PATH: &str = "/webhooks/stripe";

/// Largest webhook body accepted (Stripe's events are far smaller).
const MAX_BODY: usize = 1024 * 1024;

/// Hands one webhook call to billing and turns its answer into HTTP.
pub async fn handle(
    billing: BillingInternalServiceClient<Channel>,
    key: &PrincipalKey,
    request: http::Request<AxumBody>,
) -> http::Response<AxumBody> {
    let (parts, body) = request.into_parts();
    let signature = parts.headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if signature.is_empty() {
        return plain(http::StatusCode::BAD_REQUEST, "missing Stripe-Signature");
    }
    let Ok(payload) = axum::body::to_bytes(body, MAX_BODY).await else {
        return plain(http::StatusCode::PAYLOAD_TOO_LARGE, "body too large");
    };
    let mut call =
        tonic::Request::new(HandleStripeEventRequest { payload: payload.to_vec(), signature_header: signature });
    call.set_timeout(Duration::from_secs(10));
    key.attach(&mut call, &Principal::service("gateway"));
    jazz_platform::telemetry::inject_metadata(call.metadata_mut());
    match billing.clone().handle_stripe_event(call).await {
        Ok(_) => plain(http::StatusCode::OK, "ok"),
        Err(status) => match status.code() {
            // A bad signature, stale timestamp or malformed event: retrying
            // the same bytes cannot help.
            Code::InvalidArgument | Code::Unauthenticated | Code::PermissionDenied => {
                plain(http::StatusCode::BAD_REQUEST, "rejected")
            }
            _ => {
                tracing::warn!(code = ?status.code(), "stripe webhook not processed; Stripe will retry");
                plain(http::StatusCode::SERVICE_UNAVAILABLE, "try again later")
            }
        },
    }
}

fn plain(status: http::StatusCode, text: &'static str) -> http::Response<AxumBody> {
    let mut response = http::Response::new(AxumBody::from(text));
    *response.status_mut() = status;
    response
}
