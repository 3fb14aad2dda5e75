//! Trace context across the outbox: the W3C `traceparent` of the span that
//! enqueued an event is stored with it ([`current_traceparent`]), the
//! relay delivers it inside a span whose parent is that context
//! ([`delivery_span`]), and a delivery's outgoing calls carry the delivery
//! span's context ([`outgoing`]), so the receiver's handler joins the trace
//! of the request that caused the event. Propagation is
//! [`crate::telemetry`]'s `inject` / `extract` over an `http::HeaderMap`.

use tonic::Request;

/// The header (and metadata key) of the W3C trace context.
const TRACEPARENT: &str = "traceparent";

/// The current span's `traceparent`, or `None` outside any sampled trace
/// (no tracing layer, or no span).
pub fn current_traceparent() -> Option<String> {
    let mut headers = http::HeaderMap::new();
    crate::telemetry::inject(&mut headers);
    headers.get(TRACEPARENT).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The span a relay delivers one event in: a child of the stored
/// `trace_context`, when there is one.
pub fn delivery_span(event_id: uuid::Uuid, event_type: &str, trace_context: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!("outbox.deliver", %event_id, event_type);
    if let Some(parent) = trace_context.and_then(|t| http::HeaderValue::from_str(t).ok()) {
        let mut headers = http::HeaderMap::new();
        headers.insert(TRACEPARENT, parent);
        crate::telemetry::extract(&headers, &span);
    }
    span
}

/// `request` with the current span's trace context in its metadata (the
/// receiver's server layer reads it).
pub fn outgoing<T>(mut request: Request<T>) -> Request<T> {
    if let Some(parent) = current_traceparent().and_then(|t| t.parse().ok()) {
        request.metadata_mut().insert(TRACEPARENT, parent);
    }
    request
}

/// A subscriber that gives spans OpenTelemetry contexts (no export), and
/// the W3C propagator, for tests that follow a trace: set it as the
/// thread's default with `tracing::subscriber::set_default`.
#[cfg(feature = "testing")]
pub fn recording_subscriber() -> impl tracing::Subscriber + Send + Sync {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
}
