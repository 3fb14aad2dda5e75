//! Server bootstrap: binding, the tower layers every service shares, gRPC
//! health and reflection, and graceful shutdown.
//!
//! Layers, outermost first: panic catching (a panicking handler answers
//! INTERNAL and the process lives on), request ids (`x-request-id`, made
//! when absent and echoed back), a tracing span per call joined to the
//! caller's W3C trace, RED metrics per method ([`crate::metrics::RedLayer`]),
//! a global concurrency limit, requests that cannot be
//! decoded answered INVALID_ARGUMENT ([`crate::malformed`]), and the call's
//! deadline made current for its handler ([`crate::deadline::DeadlineLayer`],
//! which [`crate::peer::Peer`] passes on).
//! Inside those, tonic adds load shedding (calls beyond the limits are refused at once, not
//! queued), a per-connection concurrency limit and the timeout, which
//! honours the caller's `grpc-timeout` when it is shorter.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse};
use tracing::Level;

use crate::config::{Listen, ServerLimits, ServiceName};
use crate::db::{DbPool, ping};

/// The request-id header, set by the first hop and carried to the last.
pub const REQUEST_ID_HEADER: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// How often the health task checks the database.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// A bound, not yet serving, listener; binding first lets tests ask for
/// port 0 and learn the port before serving.
pub struct ServiceHost {
    listener: TcpListener,
    local_addr: SocketAddr,
    limits: ServerLimits,
    service: &'static str,
}

/// What a host serves.
pub struct ServeSpec {
    /// The application's gRPC services (and, for the gateway, its proxy).
    pub routes: Routes,
    /// Fully qualified names reported by the health service.
    pub health_names: Vec<&'static str>,
    /// The encoded descriptor set reflection serves.
    pub reflection_descriptors: Vec<u8>,
    /// Service names reflection lists (`None`: every service in the set).
    pub reflection_services: Option<Vec<String>>,
    /// What decides whether this server reports SERVING.
    pub probe: HealthProbe,
    /// Also accept HTTP/1.1 (gRPC-Web and webhooks on the gateway).
    pub accept_http1: bool,
}

#[derive(Clone, Copy)]
struct MakeUlidRequestId;

/// What a server checks to decide its health.
#[derive(Clone)]
pub enum HealthProbe {
    /// A data service: SERVING while its database answers.
    Database(DbPool),
    /// The gateway: SERVING while every service behind it reports SERVING.
    Backends(Vec<tonic::transport::Channel>),
}

impl HealthProbe {
    async fn is_up(&self) -> bool {
        match self {
            Self::Database(pool) => ping(pool).await,
            Self::Backends(channels) => {
                for channel in channels {
                    let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
                    let mut request =
                        tonic::Request::new(tonic_health::pb::HealthCheckRequest { service: String::new() });
                    request.set_timeout(Duration::from_secs(2));
                    let serving = client.check(request).await.is_ok_and(|r| {
                        r.into_inner().status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
                    });
                    if !serving {
                        return false;
                    }
                }
                true
            }
        }
    }
}

impl MakeRequestId for MakeUlidRequestId {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        http::HeaderValue::from_str(&ulid::Ulid::generate().to_string()).ok().map(RequestId::new)
    }
}

/// The trailers-only gRPC answer to a panicking handler.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> http::Response<Full<bytes::Bytes>> {
    let error_id = ulid::Ulid::generate();
    tracing::error!(%error_id, "handler panicked");
    tonic::Status::internal(format!("internal error (id {error_id})")).into_http()
}

/// The span of one call: named after the method in traces, joined to the
/// caller's trace, its `trace_id` and `request_id` on every log line inside.
fn make_span(service: &'static str, request: &http::Request<tonic::body::Body>) -> tracing::Span {
    let request_id = request.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let span = tracing::info_span!(
        "call",
        otel.name = %request.uri().path(),
        otel.kind = "server",
        service,
        method = %request.uri().path(),
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    crate::telemetry::extract(request.headers(), &span);
    crate::telemetry::record_trace_id(&span);
    span
}

impl ServiceHost {
    /// Binds `listen`'s address, or adopts its already bound listener.
    pub async fn bind(listen: &Listen, limits: ServerLimits) -> std::io::Result<Self> {
        let listener = match listen {
            Listen::Addr(addr) => TcpListener::bind(addr).await?,
            Listen::Bound(bound) => {
                let socket = bound.take().ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::AddrInUse, "this listener already serves another server")
                })?;
                TcpListener::from_std(socket)?
            }
        };
        let local_addr = listener.local_addr()?;
        Ok(Self { listener, local_addr, limits, service: "unnamed" })
    }

    /// Names the service served, for its metrics' and spans' `service` label.
    pub fn serving_as(mut self, service: ServiceName) -> Self {
        self.service = service.as_str();
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `spec` until `shutdown` resolves; then reports NOT_SERVING,
    /// stops accepting, and lets in-flight calls finish.
    pub async fn serve(self, spec: ServeSpec, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // Health is described too, so `grpcurl … grpc.health.v1.Health/Check`
        // works with reflection alone.
        let mut reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(&spec.reflection_descriptors)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        let mut reflection_alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(&spec.reflection_descriptors)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
        for name in spec.reflection_services.iter().flatten() {
            reflection = reflection.with_service_name(name.clone());
            reflection_alpha = reflection_alpha.with_service_name(name.clone());
        }

        let health_task = tokio::spawn(watch_health(health.clone(), spec.health_names.clone(), spec.probe.clone()));

        let service = self.service;
        let layers = tower::ServiceBuilder::new()
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeUlidRequestId))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
            .layer(
                tower_http::trace::TraceLayer::new_for_grpc()
                    .make_span_with(move |request: &http::Request<tonic::body::Body>| make_span(service, request))
                    // One access-log line per call; a non-OK status is an
                    // answer, not a server fault, so it is not logged as one.
                    .on_response(DefaultOnResponse::new().level(Level::INFO))
                    .on_failure(DefaultOnFailure::new().level(Level::INFO)),
            )
            .layer(crate::metrics::RedLayer::new(self.service))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(self.limits.max_concurrent_requests))
            .layer(tower::util::MapResponseLayer::new(crate::malformed::rewrite))
            .layer(crate::deadline::DeadlineLayer::new(self.limits.request_timeout))
            .into_inner();

        let limits = &self.limits;
        let mut builder = Server::builder();
        if let Some(age) = limits.max_connection_age {
            // No `max_connection_age_grace`: tonic 0.14 then skips the
            // graceful GOAWAY and cuts the connection at age + grace. Without
            // it, calls in flight finish (each bounded by the request timeout).
            builder = builder.max_connection_age(age);
        }
        let router = builder
            .accept_http1(spec.accept_http1)
            .timeout(limits.request_timeout)
            .load_shed(true)
            .max_concurrent_streams(limits.max_concurrent_streams)
            .http2_keepalive_interval(Some(limits.keepalive_interval))
            .http2_keepalive_timeout(Some(Duration::from_secs(10)))
            .tcp_nodelay(true)
            .layer(layers)
            .add_routes(spec.routes)
            .add_service(health_service)
            // grpcurl 1.8 speaks only v1alpha reflection; newer clients v1.
            .add_service(reflection.build_v1()?)
            .add_service(reflection_alpha.build_v1alpha()?);

        let names = spec.health_names;
        let drained = {
            let health = health.clone();
            async move {
                shutdown.await;
                set_all(&health, &names, ServingStatus::NotServing).await;
                tracing::info!("draining: health NOT_SERVING, finishing in-flight calls");
            }
        };
        // `serve_with_incoming` ignores the builder's `tcp_nodelay`: set it on
        // the accepted sockets here, or Nagle's algorithm holds multi-frame
        // answers back ~40 ms (measured: ListPlans at 278 calls/s, p50 45 ms).
        let incoming =
            TcpIncoming::from(self.listener).with_nodelay(Some(true)).with_keepalive(Some(limits.keepalive_interval));
        let result = router.serve_with_incoming_shutdown(incoming, drained).await;
        health_task.abort();
        result?;
        Ok(())
    }
}

async fn set_all(health: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in names {
        health.set_service_status(*name, status).await;
    }
}

/// Keeps health in step with the probe: SERVING while it passes,
/// NOT_SERVING while it does not.
async fn watch_health(health: HealthReporter, names: Vec<&'static str>, probe: HealthProbe) {
    let mut last = None;
    loop {
        let up = probe.is_up().await;
        let status = if up { ServingStatus::Serving } else { ServingStatus::NotServing };
        if last != Some(status) {
            if !up {
                tracing::warn!("dependency unreachable: health NOT_SERVING");
            }
            set_all(&health, &names, status).await;
            last = Some(status);
        }
        tokio::time::sleep(HEALTH_CHECK_INTERVAL).await;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_inside_a_call_carry_its_trace_and_request_ids() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let request = http::Request::builder()
            .uri("/jazz.content.v1.ContentService/GenerateContent")
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .header(REQUEST_ID_HEADER, "01JREQUEST")
            .body(tonic::body::Body::default())
            .unwrap();
        let ((), log) = crate::telemetry::capture::logs(|| {
            let span = make_span("content", &request);
            span.in_scope(|| tracing::info!("inside the handler"));
        });
        let line = log.lines().find(|l| l.contains("inside the handler")).unwrap_or_default();
        assert!(line.contains(&format!("trace_id=\"{trace}\"")), "{line}");
        assert!(line.contains("request_id=01JREQUEST") && line.contains("service=\"content\""), "{line}");
    }
}
