//! Logging and tracing set-up, and W3C trace-context propagation.
//!
//! `init` is called once per process. Logs are readable in development and
//! JSON when `LOG_FORMAT=json`; spans are exported over OTLP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (an unreachable exporter would log
//! an error on every batch). The `traceparent` header is read from every
//! incoming call ([`extract`]) and written on every outgoing one
//! ([`inject`]), so one request through gateway and services is one trace.

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

/// Sets up the global subscriber for `service`. Safe to call more than once
/// (tests): later calls keep the first subscriber.
pub fn init(service: &str) -> anyhow::Result<TelemetryGuard> {
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

    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.trim().is_empty());
    let provider = match endpoint {
        Some(endpoint) => {
            use opentelemetry_otlp::WithExportConfig as _;
            let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint).build()?;
            let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build();
            Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        }
        None => None,
    };
    let otel =
        provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service.to_owned())).boxed());

    // A second call (another in-process service in a test) keeps the first.
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Ok(TelemetryGuard { provider })
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
