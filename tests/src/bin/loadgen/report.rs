//! `bench/results.json` (every figure) and `bench/results.md` (the table a
//! person reads, with the ratios the targets are stated in).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::ceilings::PgbenchRun;
use crate::measure::Outcome;

/// One measured row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// `gateway`, `direct`, or `ceiling`.
    pub path: String,
    /// Calls in flight.
    pub in_flight: usize,
    /// What was measured.
    pub outcome: Outcome,
}

/// Everything one `make bench` measured.
#[derive(Debug, Default, Serialize)]
pub struct Results {
    /// `git rev-parse HEAD`, the machine and the time of the run.
    pub context: BTreeMap<String, String>,
    /// pgbench at each level.
    pub pgbench: Vec<PgbenchRun>,
    /// Every scenario run.
    pub rows: Vec<Row>,
    /// Resident memory (MiB) per process: idle, and the most seen under the mix.
    pub memory_mib: BTreeMap<String, (f64, f64)>,
    /// `EXPLAIN (ANALYZE, BUFFERS)` of the reads at scale, by name.
    pub plans: BTreeMap<String, String>,
}

impl Results {
    /// Calls/s of a row, if it was measured.
    pub fn rate(&self, scenario: &str, path: &str, in_flight: usize) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.path == path && r.in_flight == in_flight)
            .map(|r| r.outcome.calls_per_sec)
    }

    fn pgbench_tps(&self, clients: usize) -> Option<f64> {
        self.pgbench.iter().find(|p| p.clients == clients).map(|p| p.tps)
    }

    /// The ratio column: gateway/direct for gateway rows, direct/pgbench for
    /// direct rows, against the bare tonic server for the gateway's health.
    fn ratio(&self, row: &Row) -> String {
        let percent = |a: Option<f64>, b: Option<f64>, label: &str| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.0}% of {label}", 100.0 * a / b),
            _ => String::new(),
        };
        let mine = Some(row.outcome.calls_per_sec);
        match row.path.as_str() {
            "gateway" if row.scenario == "health" => {
                percent(mine, self.rate("bare tonic health", "ceiling", row.in_flight), "bare tonic")
            }
            "gateway" if row.scenario == "ListPlans" => {
                let health = percent(mine, self.rate("health", "gateway", row.in_flight), "gateway health");
                let direct = percent(mine, self.rate(&row.scenario, "direct", row.in_flight), "direct");
                format!("{direct}; {health}")
            }
            "gateway" if row.scenario == "GetContent FULL" => {
                let me = percent(mine, self.rate("GetMe", "gateway", row.in_flight), "GetMe");
                let direct = percent(mine, self.rate(&row.scenario, "direct", row.in_flight), "direct");
                format!("{direct}; {me}")
            }
            "gateway" if row.scenario == "GetMe" => {
                let pg = percent(mine, self.pgbench_tps(row.in_flight), "pgbench");
                let direct = percent(mine, self.rate(&row.scenario, "direct", row.in_flight), "direct");
                format!("{direct}; {pg}")
            }
            "gateway" => percent(mine, self.rate(&row.scenario, "direct", row.in_flight), "direct"),
            "direct" => percent(mine, self.pgbench_tps(row.in_flight), "pgbench"),
            _ => String::new(),
        }
    }

    /// Writes both files into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(self)?)?;
        std::fs::write(dir.join("results.md"), self.markdown())?;
        Ok(())
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# `make bench` results\n\n");
        for (k, v) in &self.context {
            let _ = writeln!(md, "- {k}: {v}");
        }
        md.push_str(
            "\nAll rows of one run on one machine: client, gateway, services and PostgreSQL share its cores.\n",
        );
        md.push_str("\n## Ceilings\n\n| ceiling | in flight | calls/s | mean / p50 ms |\n|---|---|---|---|\n");
        for p in &self.pgbench {
            let _ =
                writeln!(md, "| pgbench -S -M prepared (TCP) | {} | {:.0} | {:.3} |", p.clients, p.tps, p.latency_ms);
        }
        md.push_str("\n## Scenarios\n\n");
        md.push_str(
            "| scenario | path | in flight | calls/s | p50 | p90 | p99 | p99.9 | max (ms) | errors | ratio |\n",
        );
        md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            let o = &row.outcome;
            let errors = if o.errors.is_empty() {
                "0".to_owned()
            } else {
                o.errors.iter().map(|(code, n)| format!("{n} {code}")).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {} |",
                row.scenario,
                row.path,
                row.in_flight,
                o.calls_per_sec,
                o.p50_ms,
                o.p90_ms,
                o.p99_ms,
                o.p999_ms,
                o.max_ms,
                errors,
                self.ratio(row)
            );
        }
        md.push_str("\n## Resident memory (MiB)\n\n| process | idle | most under the mix |\n|---|---|---|\n");
        for (process, (idle, busy)) in &self.memory_mib {
            let _ = writeln!(md, "| {process} | {idle:.1} | {busy:.1} |");
        }
        md.push_str("\n## Plans at scale (`EXPLAIN (ANALYZE, BUFFERS)`)\n");
        for (name, plan) in &self.plans {
            let _ = write!(md, "\n### {name}\n\n```\n{plan}\n```\n");
        }
        md
    }
}
