//! Trace context across the outbox: the W3C `traceparent` of the span that
//! enqueued an event is stored with it ([`current_traceparent`]), the
//! relay delivers it inside a span whose parent is that context
//! ([`delivery_span`]), and a delivery's peer calls carry the delivery
//! span's context (`Peer::request` injects it), so the receiver's handler
//! joins the trace of the request that caused the event. Propagation is
//! [`crate::telemetry`]'s.

pub use crate::telemetry::current_traceparent;

/// The span a relay delivers one event in: a child of the stored
/// `trace_context`, when there is one. Peer requests made inside it carry
/// its context ([`crate::peer::Peer::request`]).
pub fn delivery_span(event_id: uuid::Uuid, event_type: &str, trace_context: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!("outbox.deliver", %event_id, event_type, trace_id = tracing::field::Empty);
    crate::telemetry::join_trace(&span, trace_context);
    span
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
