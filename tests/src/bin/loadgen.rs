//! `loadgen`: a small closed-loop load generator for `make bench`.
//!
//! ```text
//! loadgen <gateway host:port> [seconds per scenario] [calls in flight]
//! ```
//!
//! Signs in as the seeded demo user, then for each scenario keeps N calls in
//! flight for the given time and prints calls per second and latency
//! percentiles. Scenarios: an anonymous call through the gateway
//! (`ListPlans`: gateway + billing + PostgreSQL), an authenticated one
//! (`GetMe`: gateway session cache + identity + PostgreSQL) and health
//! (the gateway alone).

use std::time::{Duration, Instant};

use jazz_contract::jazz::billing::v1::ListPlansRequest;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::identity::v1::{GetMeRequest, SignInRequest};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args.get(1).cloned().unwrap_or_else(|| "127.0.0.1:50051".into());
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let in_flight: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
    let channel = jazz_e2e::connect(addr.parse()?).await?;

    let mut auth = AuthServiceClient::new(channel.clone());
    let signed_in = auth
        .sign_in(SignInRequest { email: "demo@jazzmaster.pro".into(), password: "blue-in-green-1959".into() })
        .await?
        .into_inner();
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {}", signed_in.session_token).parse()?;

    println!("{:<28} {:>10} {:>9} {:>9} {:>9} {:>7}", "scenario", "calls/s", "p50 ms", "p99 ms", "max ms", "errors");
    let duration = Duration::from_secs(seconds);
    report(
        "health (gateway only)",
        run(duration, in_flight, channel.clone(), |ch| async move {
            HealthClient::new(ch).check(HealthCheckRequest { service: String::new() }).await.map(drop)
        })
        .await,
    );
    report(
        "ListPlans (anonymous)",
        run(duration, in_flight, channel.clone(), |ch| async move {
            BillingServiceClient::new(ch).list_plans(ListPlansRequest::default()).await.map(drop)
        })
        .await,
    );
    report(
        "GetMe (bearer session)",
        run(duration, in_flight, channel, move |ch| {
            let bearer = bearer.clone();
            async move {
                let mut request = tonic::Request::new(GetMeRequest::default());
                request.metadata_mut().insert("authorization", bearer);
                UserServiceClient::new(ch).get_me(request).await.map(drop)
            }
        })
        .await,
    );
    Ok(())
}

struct Outcome {
    calls: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn run<F, Fut>(duration: Duration, in_flight: usize, channel: Channel, call: F) -> Outcome
where
    F: Fn(Channel) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let (call, channel) = (call.clone(), channel.clone());
        workers.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let begun = Instant::now();
                if call(channel.clone()).await.is_err() {
                    errors += 1;
                }
                latencies.push(begun.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut outcome = Outcome { calls: 0, errors: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for worker in workers {
        if let Ok((latencies, errors)) = worker.await {
            outcome.calls += latencies.len();
            outcome.errors += errors;
            outcome.latencies.extend(latencies);
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

fn report(name: &str, mut outcome: Outcome) {
    outcome.latencies.sort();
    let pct = |p: f64| {
        let index = ((outcome.latencies.len() as f64 - 1.0) * p).round() as usize;
        outcome.latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:<28} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
        name,
        outcome.calls as f64 / outcome.elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        pct(1.0),
        outcome.errors
    );
}
