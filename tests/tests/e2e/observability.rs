//! Observability (issue 14 parts 1 and 2), through the suite's real servers:
//! - metrics: the process's Prometheus endpoint is scraped over HTTP and
//!   parsed with a Prometheus exposition-format parser; calls made show up in
//!   the RED counters and histograms of the gateway and of the service
//!   behind it, the pool gauges, the session cache, the rate-limit refusals
//!   and the Redis fallbacks.
//! - tracing: the process exports its spans over OTLP/gRPC to a receiver the
//!   test serves (opentelemetry-proto's TraceService); a GenerateContent
//!   through the gateway is one trace holding the gateway's, content's and
//!   billing's spans (the handler, the engine and the quota call inside).

use std::collections::HashMap;
use std::net::SocketAddr;

use jazz_contract::jazz::billing::v1 as billing;
use jazz_contract::jazz::identity::v1 as identity;
use jazz_e2e::{Suite, bearer, lick_request};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value;
use prometheus_parse::{Scrape, Value};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;

/// The process's metrics endpoint, started once (one recorder per process).
async fn metrics_endpoint() -> anyhow::Result<SocketAddr> {
    static ENDPOINT: tokio::sync::OnceCell<SocketAddr> = tokio::sync::OnceCell::const_new();
    let addr =
        ENDPOINT.get_or_try_init(|| jazz_platform::metrics::serve(SocketAddr::from(([127, 0, 0, 1], 0)))).await?;
    Ok(*addr)
}

/// `GET /metrics` over a plain HTTP/1.0 connection, parsed.
async fn scrape(addr: SocketAddr) -> anyhow::Result<Scrape> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nhost: metrics\r\n\r\n").await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (head, body) = answer.split_once("\r\n\r\n").ok_or_else(|| anyhow::anyhow!("no HTTP answer: {answer}"))?;
    anyhow::ensure!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    anyhow::ensure!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    Ok(Scrape::parse(body.lines().map(|line| Ok(line.to_owned())))?)
}

/// The samples of `name` whose labels include `labels`.
fn series<'a>(
    scrape: &'a Scrape,
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
) -> impl Iterator<Item = &'a prometheus_parse::Sample> {
    scrape.samples.iter().filter(move |s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
}

/// The value of the counter or gauge `name` whose labels include `labels`
/// (0 when no such series exists yet).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    series(scrape, name, labels)
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(_) | Value::Summary(_) => 0.0,
        })
        .sum()
}

/// How many observations the histogram `name` with `labels` holds.
fn observations(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    series(scrape, name, labels)
        .filter_map(|s| match &s.value {
            Value::Histogram(buckets) => buckets.iter().map(|b| b.count).reduce(f64::max),
            _ => None,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_shows_the_calls_made_the_pools_the_session_cache_and_the_limits() -> anyhow::Result<()> {
    let endpoint = metrics_endpoint().await?;
    // Shared limits on a Redis that is not there: every check falls back.
    let limits = gateway::limits::RateLimits {
        credentials_per_min: 4,
        shared: Some(gateway::limits::SharedLimits {
            url: SecretString::from("redis://127.0.0.1:1/"),
            key_prefix: "jazz-test".into(),
            timeout: std::time::Duration::from_millis(200),
        }),
        ..Default::default()
    };
    let suite = Suite::builder().rate_limits(limits).start().await?;
    let before = scrape(endpoint).await?;

    let list_plans = "/jazz.billing.v1.BillingService/ListPlans";
    let mut plans = billing::billing_service_client::BillingServiceClient::new(suite.gateway_channel().await?);
    for _ in 0..3 {
        plans.list_plans(billing::ListPlansRequest::default()).await?;
    }
    // Sign-up and verification are two credential calls; two GetMe calls
    // with the new session: one cache miss, then a hit.
    let token = suite.learner("observer@example.com").await?;
    let mut users = identity::user_service_client::UserServiceClient::new(suite.gateway_channel().await?);
    for _ in 0..2 {
        users.get_me(bearer(identity::GetMeRequest::default(), &token)?).await?;
    }
    let mut auth = identity::auth_service_client::AuthServiceClient::new(suite.gateway_channel().await?);
    let mut refused = 0;
    for i in 0..4 {
        let request = identity::SignInRequest { email: format!("nobody{i}@example.com"), ..Default::default() };
        if auth.sign_in(request).await.err().is_some_and(|s| s.code() == Code::ResourceExhausted) {
            refused += 1;
        }
    }
    assert!(refused >= 2, "the credential limit of 4 refused the calls beyond it ({refused})");
    // The pool gauges are sampled every second.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = scrape(endpoint).await?;

    let delta = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    let requests = "grpc_server_requests_total";
    for service in ["gateway", "billing"] {
        let ok = delta(requests, &[("service", service), ("method", list_plans), ("code", "OK")]);
        assert!(ok >= 3.0, "{service}: 3 ListPlans counted OK, got {ok}");
        let timed = observations(
            &after,
            "grpc_server_request_duration_seconds",
            &[("service", service), ("method", list_plans)],
        );
        assert!(timed >= 3.0, "{service}: ListPlans durations observed ({timed})");
    }
    let exhausted = delta(requests, &[("service", "gateway"), ("code", "RESOURCE_EXHAUSTED")]);
    assert!(exhausted >= f64::from(refused), "refused calls counted with their code ({exhausted})");
    assert!(delta("rate_limit_refusals_total", &[("scope", "credentials")]) >= f64::from(refused));
    assert!(delta("rate_limit_redis_fallbacks_total", &[]) >= 1.0, "the unreachable Redis is counted");
    assert!(delta("gateway_session_cache_misses_total", &[]) >= 1.0);
    assert!(delta("gateway_session_cache_hits_total", &[]) >= 1.0);
    // The pool gauges: one series per service and gauge. Their values are
    // the last sample of whichever suite in this process sampled last, so
    // only their presence and sign are checked.
    for gauge in ["db_pool_connections_open", "db_pool_connections_in_use", "db_pool_waiting"] {
        for service in ["identity", "billing", "content", "progress"] {
            let samples: Vec<f64> = series(&after, gauge, &[("service", service)])
                .map(|s| match s.value {
                    Value::Gauge(v) => v,
                    _ => -1.0,
                })
                .collect();
            assert!(samples.len() == 1 && samples[0] >= 0.0, "{gauge}{{service={service}}}: {samples:?}");
        }
    }

    // Unknown paths add no series of their own.
    assert!(after.samples.iter().all(|s| s.labels.get("method").is_none_or(|m| m.starts_with('/') || m == "unknown")));
    Ok(())
}

/// One span as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    trace_id: Vec<u8>,
    name: String,
    attributes: HashMap<String, String>,
}

/// An OTLP/gRPC trace receiver keeping every span it is sent.
#[derive(Clone, Default)]
struct Receiver(std::sync::Arc<std::sync::Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans = request.into_inner().resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans);
        let received = spans.map(|span| Received {
            trace_id: span.trace_id,
            name: span.name,
            attributes: span
                .attributes
                .into_iter()
                .filter_map(|kv| match kv.value.and_then(|v| v.value) {
                    Some(any_value::Value::StringValue(value)) => Some((kv.key, value)),
                    _ => None,
                })
                .collect(),
        });
        if let Ok(mut kept) = self.0.lock() {
            kept.extend(received);
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    fn spans(&self) -> Vec<Received> {
        self.0.lock().map(|spans| spans.clone()).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_through_the_gateway_is_one_trace_across_gateway_content_and_billing() -> anyhow::Result<()> {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let otlp = listener.local_addr()?;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    // The first subscriber of the process wins; no other test sets one. It
    // stays for the rest of the process (its provider is never shut down
    // under the tests that run after this one).
    static TELEMETRY: std::sync::OnceLock<jazz_platform::telemetry::TelemetryGuard> = std::sync::OnceLock::new();
    let guard = jazz_platform::telemetry::init_with_endpoint("jazz-e2e", Some(format!("http://{otlp}")))?;
    let telemetry = TELEMETRY.get_or_init(|| guard);

    let suite = Suite::start().await?;
    let token = suite.learner("traced@example.com").await?;
    let mut content = jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient::new(
        suite.gateway_channel().await?,
    );
    content.generate_content(bearer(lick_request("Bb", 160, ""), &token)?).await?;

    let generate = "/jazz.content.v1.ContentService/GenerateContent";
    let consume = "/jazz.billing.v1.BillingInternalService/ConsumeQuota";
    let is_call = |span: &Received, service: &str, method: &str| {
        span.attributes.get("service").map(String::as_str) == Some(service)
            && span.attributes.get("method").map(String::as_str) == Some(method)
    };
    let mut trace = Vec::new();
    for _ in 0..50 {
        telemetry.flush();
        let spans = receiver.spans();
        if let Some(root) = spans.iter().find(|s| is_call(s, "gateway", generate)).map(|s| s.trace_id.clone()) {
            trace = spans.into_iter().filter(|s| s.trace_id == root).collect();
            if trace.iter().any(|s| is_call(s, "billing", consume)) && trace.iter().any(|s| s.name == "store_generated")
            {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let names: Vec<&str> = trace.iter().map(|s| s.name.as_str()).collect();
    assert!(trace.iter().any(|s| is_call(s, "gateway", generate)), "the gateway's span: {names:?}");
    assert!(trace.iter().any(|s| is_call(s, "content", generate)), "content's span in the same trace: {names:?}");
    assert!(trace.iter().any(|s| is_call(s, "billing", consume)), "billing's span in the same trace: {names:?}");
    for inner in ["generate_content", "engine", "consume_quota", "store_generated"] {
        assert!(names.contains(&inner), "{inner} in the trace: {names:?}");
    }
    // The gateway's span is named after the method, and every call span
    // carries the request id the gateway set.
    let calls: Vec<&Received> = trace.iter().filter(|s| s.attributes.contains_key("method")).collect();
    assert!(calls.iter().all(|s| s.attributes.get("request_id").is_some_and(|id| !id.is_empty())), "{calls:?}");
    assert!(trace.iter().any(|s| s.name == generate));
    Ok(())
}
