//! Logging and tracing set-up, and W3C trace-context propagation.
//!
//! `init` is called once per process. Logs are readable in development and
//! JSON when `LOG_FORMAT=json`; spans are exported over OTLP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (an unreachable exporter would log
//! an error on every batch), but trace ids are kept either way, so every
//! log line inside a call carries its `trace_id` and `request_id` (fields
//! of the server's call span). The `traceparent` header is read from every
//! incoming call ([`extract`]) and written on every outgoing one ([`inject`],
//! [`inject_metadata`]; [`crate::peer::Peer`] does it for every peer call),
//! so one request through gateway and services is one trace. Work that
//! outlives its call (an outbox event) keeps [`current_traceparent`] and
//! joins that trace later with [`span_with_parent`].

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Flushes and shuts the span exporter down when dropped (end of `main`).
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("span exporter shutdown failed: {error}");
        }
    }
}

impl TelemetryGuard {
    /// Exports the spans ended so far now (tests; `Drop` does it at exit).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(error) = provider.force_flush()
        {
            tracing::warn!(%error, "span export flush failed");
        }
    }
}

/// Sets up the global subscriber for `service`, exporting spans to
/// `OTEL_EXPORTER_OTLP_ENDPOINT` when set. Safe to call more than once
/// (tests): later calls keep the first subscriber.
pub fn init(service: &str) -> anyhow::Result<TelemetryGuard> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.trim().is_empty());
    init_with_endpoint(service, endpoint)
}

/// [`init`] with the OTLP/gRPC endpoint given (`None`: no export).
pub fn init_with_endpoint(service: &str, endpoint: Option<String>) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = if json {
        tracing_subscriber::fmt::layer().json().with_current_span(true).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .boxed()
    };

    // Without an endpoint the provider exports nothing, but spans still get
    // trace ids: logs carry them and outgoing calls pass them on.
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = endpoint {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(service.to_owned()));

    // A second call (another in-process service in a test) keeps the first.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Ok(TelemetryGuard { provider: Some(provider) })
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(key), http::HeaderValue::try_from(value)) {
            self.0.insert(name, value);
        }
    }
}

/// Makes `span` a child of the trace context in `headers`, if any.
pub fn extract(headers: &http::HeaderMap, span: &tracing::Span) {
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into outgoing `headers`.
pub fn inject(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&context, &mut HeaderInjector(headers)));
}

/// Writes the current span's trace context into an outgoing tonic request's
/// metadata.
pub fn inject_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let mut headers = http::HeaderMap::new();
    inject(&mut headers);
    for (name, value) in &headers {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::AsciiMetadataKey::from_bytes(name.as_str().as_bytes()),
            tonic::metadata::AsciiMetadataValue::try_from(value.as_bytes()),
        ) {
            metadata.insert(key, value);
        }
    }
}

/// The current span's W3C `traceparent`, to store with work that outlives
/// the call (an outbox event); `None` outside any trace.
pub fn current_traceparent() -> Option<String> {
    let mut headers = http::HeaderMap::new();
    inject(&mut headers);
    headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A span for work done on behalf of an earlier call (an outbox delivery),
/// joined to that call's trace when `traceparent` is a valid one. Enter it
/// (or `.instrument(span)`) around the work.
pub fn span_with_parent(traceparent: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!("delivery", trace_id = tracing::field::Empty);
    join_trace(&span, traceparent);
    span
}

/// Makes `span` a child of `traceparent` when that is a valid W3C trace
/// context, and records its trace id (a `trace_id` field it declares).
pub fn join_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(traceparent) = traceparent
        && let Ok(value) = http::HeaderValue::from_str(traceparent)
    {
        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", value);
        extract(&headers, span);
    }
    record_trace_id(span);
}

/// The trace id of `span` (32 hex digits), when it belongs to a trace.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

/// Fills `span`'s `trace_id` field (declared `Empty`) so log lines show it.
pub fn record_trace_id(span: &tracing::Span) {
    if let Some(id) = trace_id(span) {
        span.record("trace_id", id.as_str());
    }
}

/// A subscriber like [`init`]'s, local to one test, writing its log lines
/// to a buffer.
#[cfg(test)]
pub(crate) mod capture {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    /// Runs `f` under the subscriber; answers its result and the log.
    pub(crate) fn logs<T>(f: impl FnOnce() -> T) -> (T, String) {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(buffer.clone()).with_ansi(false))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let out = tracing::subscriber::with_default(subscriber, f);
        let log = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
        (out, log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
    const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn a_delivery_joins_the_trace_its_event_stored() {
        let ((id, passed_on), log) = capture::logs(|| {
            let span = span_with_parent(Some(TRACEPARENT));
            let passed_on = span.in_scope(|| {
                tracing::info!("delivering");
                current_traceparent()
            });
            (trace_id(&span), passed_on)
        });
        assert_eq!(id.as_deref(), Some(TRACE));
        // Passed on with this span as the parent: same trace, another span.
        let passed_on = passed_on.unwrap_or_default();
        assert!(passed_on.starts_with(&format!("00-{TRACE}-")), "{passed_on}");
        assert_ne!(passed_on, TRACEPARENT);
        assert!(log.contains(&format!("trace_id=\"{TRACE}\"")) && log.contains("delivering"), "{log}");
    }

    #[test]
    fn without_a_valid_traceparent_a_delivery_starts_a_trace_of_its_own() {
        let ((none, garbage), _) =
            capture::logs(|| (trace_id(&span_with_parent(None)), trace_id(&span_with_parent(Some("00-not-a-trace")))));
        assert!(none.is_some_and(|id| id.len() == 32 && id != TRACE));
        assert!(garbage.is_some_and(|id| id.len() == 32 && id != TRACE));
    }

    #[test]
    fn outgoing_metadata_carries_the_current_trace() {
        let (metadata, _) = capture::logs(|| {
            let span = span_with_parent(Some(TRACEPARENT));
            let mut metadata = tonic::metadata::MetadataMap::new();
            span.in_scope(|| inject_metadata(&mut metadata));
            metadata
        });
        let traceparent = metadata.get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(traceparent.starts_with(&format!("00-{TRACE}-")), "{traceparent}");
    }
}
