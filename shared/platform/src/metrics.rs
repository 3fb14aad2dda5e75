//! Metrics: every crate records through the `metrics` facade
//! (`metrics::counter!`, `gauge!`, `histogram!`); each process installs one
//! Prometheus recorder ([`install`]) and serves it as Prometheus text on a
//! port of its own ([`serve`], `GET /metrics`), apart from the gRPC port so
//! it is never public.
//!
//! Recorded here: RED per gRPC method ([`RedLayer`], in every server's
//! stack) and the database pool ([`spawn_pool_gauges`]). Elsewhere: the
//! gateway's rate-limit refusals, Redis fallbacks and session cache, and the
//! outbox relay's figures. docs/operations.md ("Metric names") lists every
//! name; the relay's are the constants below.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body::Frame;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::{ConfigError, ServiceName, env_parse};
use crate::db::DbPool;

/// Calls answered, by `service`, `method` (the gRPC path; `unknown` for
/// UNIMPLEMENTED, so made-up paths add no series) and `code`.
pub const REQUESTS: &str = "grpc_server_requests_total";
/// Time from a call's arrival to the end of its answer, in seconds, by
/// `service` and `method`.
pub const REQUEST_DURATION: &str = "grpc_server_request_duration_seconds";
/// Pooled database connections lent out now, by `service`.
pub const POOL_IN_USE: &str = "db_pool_connections_in_use";
/// Pooled database connections open now (in use or idle), by `service`.
pub const POOL_OPEN: &str = "db_pool_connections_open";
/// Callers waiting for a pooled connection now, by `service`.
pub const POOL_WAITING: &str = "db_pool_waiting";
/// Outbox events not yet delivered, by `service` (gauge; the relay's).
pub const OUTBOX_BACKLOG: &str = "outbox_backlog";
/// Age of the oldest undelivered outbox event, seconds (gauge; the relay's).
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "outbox_oldest_age_seconds";
/// Outbox events marked dead (gauge; the relay's).
pub const OUTBOX_DEAD: &str = "outbox_dead";
/// Delivery attempts by `outcome` (`delivered`, `retry`, `dead`; counter;
/// the relay's).
pub const RELAY_DELIVERIES: &str = "relay_deliveries_total";

/// Bucket bounds of [`REQUEST_DURATION`], seconds: 1 ms to the 10 s
/// default request timeout.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// How often the pool gauges are sampled.
const POOL_SAMPLE_EVERY: Duration = Duration::from_secs(1);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's Prometheus recorder, once; later calls (several
/// services in one test process) return the same handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder =
            match builder.set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), &DURATION_BUCKETS) {
                Ok(builder) => builder,
                // Only an empty bucket list is refused, and ours is not.
                Err(_) => PrometheusBuilder::new(),
            };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics shows only this one's");
        }
        handle
    })
}

/// Where this process serves its metrics: `<SVC>_METRICS_ADDR`, else
/// `METRICS_ADDR`, else `0.0.0.0:<default>` ([`ServiceName::default_metrics_port`]);
/// `off` serves none.
pub fn addr_from_env(service: ServiceName) -> Result<Option<SocketAddr>, ConfigError> {
    let name = format!("{}_METRICS_ADDR", service.env_prefix());
    let (name, value) = match std::env::var(&name) {
        Ok(value) if !value.trim().is_empty() => (name, value),
        _ => ("METRICS_ADDR".to_owned(), std::env::var("METRICS_ADDR").unwrap_or_default()),
    };
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let default = SocketAddr::from(([0, 0, 0, 0], service.default_metrics_port()));
    env_parse(&name, default).map(Some)
}

/// Installs the recorder and serves `GET /metrics` on `addr` until the
/// process ends; answers the address bound (port 0 picks one).
pub async fn serve(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let handle = install();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let io = hyper_util::rt::TokioIo::new(stream);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(
                        move |request| async move { Ok::<_, Infallible>(scrape(handle, &request)) },
                    );
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    tracing::info!(addr = %local, "serving metrics on /metrics");
    Ok(local)
}

/// The answer to one scrape.
fn scrape<B>(
    handle: &PrometheusHandle,
    request: &http::Request<B>,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let (status, content_type, body) = if request.uri().path() != "/metrics" {
        (http::StatusCode::NOT_FOUND, "text/plain", "not found: metrics are at /metrics\n".to_owned())
    } else if request.method() != http::Method::GET {
        (http::StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".to_owned())
    } else {
        handle.run_upkeep();
        (http::StatusCode::OK, "text/plain; version=0.0.4", handle.render())
    };
    let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(content_type));
    response
}

/// Samples `pool` into the pool gauges of `service` every second, for as
/// long as the runtime runs.
pub fn spawn_pool_gauges(service: ServiceName, pool: DbPool) {
    tokio::spawn(async move {
        let labels = [("service", service.as_str())];
        let mut tick = tokio::time::interval(POOL_SAMPLE_EVERY);
        loop {
            tick.tick().await;
            let status = pool.status();
            metrics::gauge!(POOL_IN_USE, &labels).set(status.size.saturating_sub(status.available) as f64);
            metrics::gauge!(POOL_OPEN, &labels).set(status.size as f64);
            metrics::gauge!(POOL_WAITING, &labels).set(status.waiting as f64);
        }
    });
}

/// The canonical name of a gRPC status code (`OK`, `NOT_FOUND`, …).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// One call being measured, recorded once its status is known.
struct Call {
    service: &'static str,
    method: String,
    started: Instant,
}

impl Call {
    fn record(self, code: &'static str) {
        let method = if code == "UNIMPLEMENTED" { "unknown".to_owned() } else { self.method };
        let elapsed = self.started.elapsed().as_secs_f64();
        metrics::histogram!(REQUEST_DURATION, "service" => self.service, "method" => method.clone()).record(elapsed);
        metrics::counter!(REQUESTS, "service" => self.service, "method" => method, "code" => code).increment(1);
    }
}

/// The status a gRPC answer carries in `headers` (a trailers-only answer,
/// or the trailers at its end).
fn grpc_code(headers: &http::HeaderMap) -> Option<&'static str> {
    let value = headers.get("grpc-status")?.to_str().ok()?.parse::<i32>().ok()?;
    Some(code_name(tonic::Code::from_i32(value)))
}

/// Records [`REQUESTS`] and [`REQUEST_DURATION`] for every call through the
/// server, labelled with the serving process's `service`.
#[derive(Clone, Copy)]
pub struct RedLayer {
    service: &'static str,
}

impl RedLayer {
    /// Measures the calls served as `service`.
    pub fn new(service: &'static str) -> Self {
        Self { service }
    }
}

impl<S> tower::Layer<S> for RedLayer {
    type Service = Red<S>;
    fn layer(&self, inner: S) -> Red<S> {
        Red { inner, service: self.service }
    }
}

/// The service [`RedLayer`] makes.
#[derive(Clone)]
pub struct Red<S> {
    inner: S,
    service: &'static str,
}

impl<S, B> tower::Service<http::Request<B>> for Red<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Call { service: self.service, method: request.uri().path().to_owned(), started: Instant::now() };
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            if let Some(code) = grpc_code(response.headers()) {
                call.record(code);
                return Ok(response);
            }
            if !is_grpc(response.headers()) {
                // Plain HTTP (the Stripe webhook): no gRPC status to wait for.
                call.record(if response.status().is_success() { "OK" } else { "UNKNOWN" });
                return Ok(response);
            }
            Ok(response.map(|body| tonic::body::Body::new(Metered { inner: body, call: Some(call) })))
        })
    }
}

fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// An answer's body that records its call when the trailers pass (or, if
/// the client goes away first, as CANCELLED).
struct Metered {
    inner: tonic::body::Body,
    call: Option<Call>,
}

impl http_body::Body for Metered {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, tonic::Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_code)
                    && let Some(call) = self.call.take()
                {
                    call.record(code);
                }
            }
            // gRPC-Web carries its status inside the body, not in trailers.
            Poll::Ready(None) => {
                if let Some(call) = self.call.take() {
                    call.record("UNKNOWN");
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = self.call.take() {
                    call.record("INTERNAL");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record("CANCELLED");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_headers_name_their_code() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(grpc_code(&headers), None);
        headers.insert("grpc-status", http::HeaderValue::from_static("5"));
        assert_eq!(grpc_code(&headers), Some("NOT_FOUND"));
        headers.insert("grpc-status", http::HeaderValue::from_static("junk"));
        assert_eq!(grpc_code(&headers), None);
    }
}
