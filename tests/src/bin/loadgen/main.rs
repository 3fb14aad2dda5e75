//! `loadgen`: `make bench`'s load generator and report (issue 16).
//!
//! ```text
//! loadgen echo <addr>            a bare tonic health server (a ceiling)
//! loadgen <gateway host:port>    the whole benchmark against a running suite
//! ```
//!
//! Against a suite that `deploy/local/run.sh` started (services at the
//! gateway's port + 10 … 13), it grows the data to scale (the demo
//! learner's practice history to `BENCH_PRACTICE_RECORDS`, 100 000; the
//! content catalogue to `BENCH_CONTENT_ROWS`, 1 000 000 — `INSERT …
//! SELECT`, not one call per row), then measures, in one run: the ceilings
//! (`pgbench -S -M prepared` on `PGBENCH_URL`, the bare tonic server at
//! `ECHO_ADDR`), every read at each of `BENCH_LEVELS` (1,16,64) calls in
//! flight through the gateway and straight to its service, the learning
//! loop's reads, a learner mix and a write burst, the processes' resident
//! memory (pids in `RUN_STATE`), and `EXPLAIN (ANALYZE, BUFFERS)` of the
//! reads at scale. It writes `bench/results.md` and `bench/results.json`.
//! `BENCH_SECONDS` (8) per run after `BENCH_WARMUP_SECONDS` (2) of warm-up.
//! `BENCH_ONLY` (names separated by commas, e.g. `GetMe,ceilings`) measures
//! only those rows, for working on one of them; the report then holds only
//! them.

mod ceilings;
mod measure;
mod report;
mod scenarios;
mod setup;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_platform::principal::PrincipalKey;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use measure::{Outcome, Plan};
use report::{Results, Row};
use scenarios::{Addresses, Caller, Read};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} must be set (deploy/local/bench.sh sets it)"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("echo") {
        let addr: SocketAddr = args.get(2).map_or("127.0.0.1:22099", String::as_str).parse()?;
        return ceilings::serve_echo(addr).await;
    }
    let gateway: SocketAddr = args.get(1).map_or("127.0.0.1:22051", String::as_str).parse()?;
    let addresses = Addresses::from_gateway(gateway);
    let plan = Plan {
        duration: Duration::from_secs(env_or("BENCH_SECONDS", 8)),
        warm_up: Duration::from_secs(env_or("BENCH_WARMUP_SECONDS", 2)),
    };
    let levels: Vec<usize> = std::env::var("BENCH_LEVELS")
        .unwrap_or_else(|_| "1,16,64".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let key = PrincipalKey::new(secrecy::SecretString::from(required("PRINCIPAL_SECRET")?));
    let only: Vec<String> = std::env::var("BENCH_ONLY")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let out = PathBuf::from(std::env::var("BENCH_OUT").unwrap_or_else(|_| "bench".into()));
    let pids = PathBuf::from(required("RUN_STATE")?);

    let mut results = Results { context: setup::context(), ..Results::default() };
    let prepared = setup::prepare(addresses, &key).await?;
    let fixtures = Arc::new(prepared.fixtures.clone());
    let bearer = Caller::Gateway(prepared.bearer.clone());
    let direct = Caller::Direct { key: key.clone(), user: prepared.user };
    for (name, value) in &prepared.scale {
        results.context.insert(name.clone(), value.clone());
    }
    let idle = setup::memory(&pids);

    // Ceilings.
    let pgbench_url = required("PGBENCH_URL")?;
    let echo: SocketAddr = required("ECHO_ADDR")?.parse()?;
    for &n in levels.iter().filter(|_| wanted("ceilings")) {
        let run = ceilings::pgbench(&pgbench_url, n, plan.duration)?;
        println!("pgbench -S -M prepared  {:>3} clients  {:>9.0} tps", n, run.tps);
        results.pgbench.push(run);
    }
    for &n in levels.iter().filter(|_| wanted("ceilings")) {
        let outcome = health(plan, n, echo).await?;
        record(&mut results, "bare tonic health", "ceiling", n, outcome);
        let outcome = health(plan, n, gateway).await?;
        record(&mut results, "health", "gateway", n, outcome);
    }

    // Every read, both ways.
    for read in Read::ALL.into_iter().filter(|read| wanted(read.name())) {
        for &n in &levels {
            for (path, caller, addr) in
                [("gateway", &bearer, gateway), ("direct", &direct, addresses.services[read.owner() as usize])]
            {
                let (caller, fixtures) = (caller.clone(), fixtures.clone());
                let outcome = measure::run(
                    plan,
                    n,
                    || jazz_e2e::connect(addr),
                    move |channel, i| {
                        let (caller, fixtures) = (caller.clone(), fixtures.clone());
                        async move { read.call(channel, &caller, &fixtures, i).await }
                    },
                )
                .await?;
                record(&mut results, read.name(), path, n, outcome);
            }
        }
    }

    // The learning loop's other reads, through the gateway.
    for (name, which) in [("GetReviewQueue", 0), ("GetMasteryMatrix", 1), ("GetRecommendations", 2)]
        .into_iter()
        .filter(|(name, _)| wanted(name))
    {
        let caller = bearer.clone();
        let outcome = measure::run(
            plan,
            16,
            || jazz_e2e::connect(gateway),
            move |channel, _| {
                let caller = caller.clone();
                async move {
                    let mut client = ProgressServiceClient::new(channel);
                    match which {
                        0 => client
                            .get_review_queue(caller.request(progress_pb::GetReviewQueueRequest::default()))
                            .await
                            .map(drop),
                        1 => client
                            .get_mastery_matrix(caller.request(progress_pb::GetMasteryMatrixRequest::default()))
                            .await
                            .map(drop),
                        _ => client
                            .get_recommendations(caller.request(progress_pb::GetRecommendationsRequest::default()))
                            .await
                            .map(drop),
                    }
                }
            },
        )
        .await?;
        record(&mut results, name, "gateway", 16, outcome);
    }

    // A learner mix (memory watched) and a write burst, through the gateway.
    let mut busy = BTreeMap::<String, f64>::new();
    for &n in levels.iter().filter(|&&n| n > 1 && wanted("learner mix")) {
        let watcher = setup::watch_memory(pids.clone());
        let (caller, f) = (bearer.clone(), fixtures.clone());
        let outcome = measure::run(
            plan,
            n,
            || jazz_e2e::connect(gateway),
            move |channel, i| {
                let (caller, f) = (caller.clone(), f.clone());
                async move { scenarios::learner_mix(channel, &caller, &f, i).await }
            },
        )
        .await?;
        for (process, mib) in watcher.stop().await {
            let most = busy.entry(process).or_default();
            *most = most.max(mib);
        }
        record(&mut results, "learner mix", "gateway", n, outcome);
        let (caller, f) = (bearer.clone(), fixtures.clone());
        let outcome = measure::run(
            plan,
            n,
            || jazz_e2e::connect(gateway),
            move |channel, i| {
                let (caller, f) = (caller.clone(), f.clone());
                async move { scenarios::write_burst(channel, &caller, &f, i).await }
            },
        )
        .await?;
        record(&mut results, "write burst", "gateway", n, outcome);
    }
    for (process, idle_mib) in idle {
        let most = busy.get(&process).copied().unwrap_or(idle_mib);
        results.memory_mib.insert(process, (idle_mib, most));
    }

    results.plans = setup::plans(prepared.user, &fixtures).await?;
    results.write(&out)?;
    println!("wrote {0}/results.md and {0}/results.json", out.display());
    Ok(())
}

async fn health(plan: Plan, in_flight: usize, addr: SocketAddr) -> anyhow::Result<Outcome> {
    measure::run(
        plan,
        in_flight,
        || jazz_e2e::connect(addr),
        |channel, _| async move {
            HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.map(drop)
        },
    )
    .await
}

fn record(results: &mut Results, scenario: &str, path: &str, in_flight: usize, outcome: Outcome) {
    println!(
        "{:<22} {:<8} {:>3}  {:>9.0}/s  p50 {:>7.2}  p99 {:>8.2}  max {:>8.1} ms  errors {}",
        scenario,
        path,
        in_flight,
        outcome.calls_per_sec,
        outcome.p50_ms,
        outcome.p99_ms,
        outcome.max_ms,
        outcome.error_count()
    );
    results.rows.push(Row { scenario: scenario.into(), path: path.into(), in_flight, outcome });
}
