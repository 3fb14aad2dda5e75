//! Closed-loop measurement: N workers each keep one call in flight for a
//! fixed time after a warm-up, latencies into an HDR histogram, errors
//! counted by gRPC code.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tonic::transport::Channel;

/// How long, and how hard, each scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Measured time per run.
    pub duration: Duration,
    /// Unmeasured calls before it (connections, caches, JIT-free plans).
    pub warm_up: Duration,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Calls answered OK per second.
    pub calls_per_sec: f64,
    /// Calls made (OK or not) in the measured window.
    pub calls: u64,
    /// Latency percentiles in milliseconds.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest call.
    pub max_ms: f64,
    /// Failed calls by gRPC code name.
    pub errors: BTreeMap<String, u64>,
}

impl Outcome {
    /// Failed calls, all codes.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Keeps `in_flight` calls going over one HTTP/2 connection per 16 workers
/// (`connect` makes each), warm-up first, then measures for the plan's
/// duration. `call(channel, i)` makes the i-th call of a worker.
pub async fn run<C, CF, F, Fut>(plan: Plan, in_flight: usize, connect: C, call: F) -> anyhow::Result<Outcome>
where
    C: Fn() -> CF,
    CF: Future<Output = anyhow::Result<Channel>>,
    F: Fn(Channel, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let mut channels = Vec::new();
    for _ in 0..in_flight.div_ceil(16) {
        channels.push(connect().await?);
    }
    let begin = Instant::now();
    let measure_from = begin + plan.warm_up;
    let end = measure_from + plan.duration;
    let mut workers = Vec::new();
    for worker in 0..in_flight {
        let (call, channel) = (call.clone(), channels[worker / 16].clone());
        workers.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut errors = BTreeMap::<String, u64>::new();
            let mut i = (worker as u64) << 32;
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let result = call(channel.clone(), i).await;
                i += 1;
                if started < measure_from {
                    continue;
                }
                histogram.saturating_record(started.elapsed().as_micros().max(1) as u64);
                if let Err(status) = result {
                    *errors.entry(format!("{:?}", status.code())).or_default() += 1;
                }
            }
            anyhow::Ok((histogram, errors))
        }));
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = BTreeMap::<String, u64>::new();
    for worker in workers {
        let (one, its_errors) = worker.await??;
        histogram.add(one)?;
        for (code, n) in its_errors {
            *errors.entry(code).or_default() += n;
        }
    }
    let calls = histogram.len();
    let failed: u64 = errors.values().sum();
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    Ok(Outcome {
        calls_per_sec: (calls - failed) as f64 / plan.duration.as_secs_f64(),
        calls,
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: histogram.max() as f64 / 1000.0,
        errors,
    })
}
