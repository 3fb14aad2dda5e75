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
//! (the gateway alone). With `PROGRESS_DATABASE_URL` set (progress's
//! database of the suite under test), it also grows the demo user's
//! practice history to `BENCH_PRACTICE_RECORDS` (100 000) records — twelve
//! items generated and practised through the gateway, then copied in SQL
//! ([`jazz_e2e::scale`]) — and measures the learning loop's reads on it:
//! GetProgressSummary, GetReviewQueue, GetMasteryMatrix, GetRecommendations.

use std::time::{Duration, Instant};

use jazz_contract::jazz::billing::v1::ListPlansRequest;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::identity::v1::auth_service_client::AuthServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::identity::v1::{GetMeRequest, SignInRequest};
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
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
    let authorized = Bearer(bearer);
    let with_bearer = authorized.clone();
    report(
        "GetMe (bearer session)",
        run(duration, in_flight, channel.clone(), move |ch| {
            let request = with_bearer.request(GetMeRequest::default());
            async move { UserServiceClient::new(ch).get_me(request).await.map(drop) }
        })
        .await,
    );
    if let Ok(url) = std::env::var("PROGRESS_DATABASE_URL") {
        let total = std::env::var("BENCH_PRACTICE_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
        let user = practice_at_scale(&channel, &authorized, &url, total).await?;
        println!("learning loop at scale: {total} practice records of one learner ({user}) over 365 days");
        macro_rules! progress_read {
            ($name:expr, $method:ident, $message:expr) => {{
                let authorized = authorized.clone();
                report(
                    $name,
                    run(duration, in_flight, channel.clone(), move |ch| {
                        let request = authorized.request($message);
                        async move { ProgressServiceClient::new(ch).$method(request).await.map(drop) }
                    })
                    .await,
                );
            }};
        }
        progress_read!("GetProgressSummary", get_progress_summary, progress_pb::GetProgressSummaryRequest::default());
        progress_read!("GetReviewQueue", get_review_queue, progress_pb::GetReviewQueueRequest::default());
        progress_read!("GetMasteryMatrix", get_mastery_matrix, progress_pb::GetMasteryMatrixRequest::default());
        progress_read!("GetRecommendations", get_recommendations, progress_pb::GetRecommendationsRequest::default());
    }
    Ok(())
}

/// Makes the demo user's history `total` records long (once: a later run
/// finds it): twelve licks generated and practised through the gateway,
/// one per key, then copied in SQL.
async fn practice_at_scale(channel: &Channel, authorized: &Bearer, url: &str, total: i64) -> anyhow::Result<String> {
    use diesel_async::AsyncConnection as _;
    use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
    use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;

    let me =
        UserServiceClient::new(channel.clone()).get_me(authorized.request(GetMeRequest::default())).await?.into_inner();
    let user_id = me.user.map(|u| u.id).unwrap_or_default();
    let user = jazz_platform::ids::parse_id("user_id", &user_id).map_err(|v| anyhow::anyhow!("{v:?}"))?;
    let mut conn = diesel_async::AsyncPgConnection::establish(url).await?;
    let have = jazz_e2e::sql::number(
        &mut conn,
        &format!("SELECT count(*) AS n FROM practice_records WHERE user_id = '{user}'"),
    )
    .await?;
    if have == 0 {
        let start = progress_pb::StartPracticeSessionRequest::default();
        let session = PracticeServiceClient::new(channel.clone())
            .start_practice_session(authorized.request(start))
            .await?
            .into_inner()
            .session
            .map(|s| s.id)
            .unwrap_or_default();
        for (i, key) in ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"].iter().enumerate() {
            let request = authorized.request(jazz_e2e::lick_request(key, 160, &format!("bench-{i}")));
            let item = ContentServiceClient::new(channel.clone()).generate_content(request).await?.into_inner();
            let add = progress_pb::AddPracticeRecordRequest {
                practice_session_id: session.clone(),
                content_id: item.content.map(|c| c.id).unwrap_or_default(),
                minutes: 10,
                performance: Some(70.0),
                ..Default::default()
            };
            PracticeServiceClient::new(channel.clone()).add_practice_record(authorized.request(add)).await?;
        }
    }
    jazz_e2e::scale::practice_history(&mut conn, user, total, 365).await?;
    jazz_e2e::sql::execute(&mut conn, "ANALYZE practice_records").await?;
    Ok(user_id)
}

/// The demo user's `authorization: Bearer …`, put on any request.
#[derive(Clone)]
struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert("authorization", self.0.clone());
        request
    }
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
