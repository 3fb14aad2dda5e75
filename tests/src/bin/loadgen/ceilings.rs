//! The machine's ceilings, measured in the same run as the suite:
//! PostgreSQL's own (`pgbench -S -M prepared` over TCP) and a bare tonic
//! server's (health checks against a server with no layers at all).

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

/// What pgbench measured at one client count.
#[derive(Debug, Clone, Serialize)]
pub struct PgbenchRun {
    /// Clients.
    pub clients: usize,
    /// Transactions (one indexed SELECT each) per second.
    pub tps: f64,
    /// Mean latency in milliseconds.
    pub latency_ms: f64,
}

/// `pgbench -S -M prepared` against `url` (initialised by `bench.sh`) with
/// `clients` clients for `duration`.
pub fn pgbench(url: &str, clients: usize, duration: Duration) -> anyhow::Result<PgbenchRun> {
    let output = Command::new("pgbench")
        .args(["-S", "-M", "prepared", "-n"])
        .args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
        .args(["-T", &duration.as_secs().max(1).to_string(), url])
        .output()
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "pgbench failed: {}", String::from_utf8_lossy(&output.stderr));
    let number_after = |label: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    Ok(PgbenchRun {
        clients,
        tps: number_after("tps = ").context("pgbench printed no tps")?,
        latency_ms: number_after("latency average = ").unwrap_or(0.0),
    })
}

/// Serves `grpc.health.v1.Health` alone, with tonic's defaults and
/// TCP_NODELAY (as every server of the suite has): the fastest a tonic
/// service can answer here.
pub async fn serve_echo(addr: SocketAddr) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
    tonic::transport::Server::builder().tcp_nodelay(true).add_service(health).serve(addr).await?;
    Ok(())
}
