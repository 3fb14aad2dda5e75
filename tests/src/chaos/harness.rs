//! What the chaos scenarios act on: the suite `deploy/local/run.sh` started
//! (its pid files, logs and the environment of each process), the private
//! PostgreSQL cluster, and clients from chosen loopback addresses.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStringExt as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use jazz_contract::jazz::identity::v1 as identity_pb;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The seeded demo learner (seeds/identity/users.json).
pub const DEMO_EMAIL: &str = "demo@jazzmaster.pro";
/// Her password.
pub const DEMO_PASSWORD: &str = "blue-in-green-1959";

/// The five processes, as `run.sh` names their pid and log files.
pub const PROCESSES: [&str; 5] = ["identity", "billing", "content", "progress", "gateway"];

/// The suite under test, read from the environment `deploy/local/chaos.sh`
/// sets.
pub struct Harness {
    state: PathBuf,
    bin: PathBuf,
    port_base: u16,
    pg: String,
    db_prefix: String,
    pg_restart: String,
    /// Processes this driver started again (their exit status is ours to
    /// collect).
    children: BTreeMap<&'static str, tokio::process::Child>,
    /// The environment each process was started with, read from /proc
    /// before it was killed, so a restart is the same process again.
    environments: BTreeMap<&'static str, Vec<(OsString, OsString)>>,
}

fn var(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set (run the driver through deploy/local/chaos.sh)"))
}

impl Harness {
    /// `CHAOS_STATE` (run.sh's RUN_STATE), `CHAOS_BIN`, `CHAOS_PORT_BASE`,
    /// `CHAOS_PG` (the private cluster's base URL), `CHAOS_DB_PREFIX`,
    /// `CHAOS_PG_RESTART` (the command that restarts the cluster).
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            state: var("CHAOS_STATE")?.into(),
            bin: var("CHAOS_BIN")?.into(),
            port_base: var("CHAOS_PORT_BASE")?.parse().context("CHAOS_PORT_BASE")?,
            pg: var("CHAOS_PG")?,
            db_prefix: var("CHAOS_DB_PREFIX")?,
            pg_restart: var("CHAOS_PG_RESTART")?,
            children: BTreeMap::new(),
            environments: BTreeMap::new(),
        })
    }

    /// The port `run.sh` gave `process`.
    pub fn port(&self, process: &str) -> u16 {
        let offset = match process {
            "identity" => 10,
            "billing" => 11,
            "content" => 12,
            "progress" => 13,
            _ => 0,
        };
        self.port_base + offset
    }

    /// The process id in `process`'s pid file.
    pub fn pid(&self, process: &str) -> anyhow::Result<u32> {
        let file = self.state.join(format!("{process}.pid"));
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        text.trim().parse().with_context(|| format!("pid in {}", file.display()))
    }

    /// Resident memory of `process`, in KiB (`VmRSS` in /proc).
    pub fn rss_kib(&self, process: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid(process)?))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS line")
    }

    /// A connection to `service`'s database on the private cluster.
    pub async fn db(&self, service: &str) -> anyhow::Result<AsyncPgConnection> {
        let url = format!("{}/{}_{service}", self.pg, self.db_prefix);
        AsyncPgConnection::establish(&url).await.with_context(|| format!("connecting to {}_{service}", self.db_prefix))
    }

    /// A channel to `process` whose connections come from `from` (each
    /// scenario has its own loopback address, so the gateway's per-address
    /// limits of one do not meet another's calls).
    pub async fn channel(&self, process: &str, from: IpAddr) -> anyhow::Result<Channel> {
        let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port(process)))?
            .local_address(Some(from))
            .connect_timeout(Duration::from_secs(2));
        Ok(endpoint.connect().await?)
    }

    /// Waits (at most `within`) until `process` answers health SERVING.
    pub async fn wait_serving(&self, process: &str, within: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.health(process).await == ServingStatus::Serving {
                return Ok(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{process} was not SERVING within {within:?}")
    }

    /// `process`'s health as a fresh client sees it (UNKNOWN when it does
    /// not answer).
    pub async fn health(&self, process: &str) -> ServingStatus {
        let Ok(channel) = self.channel(process, [127, 0, 0, 1].into()).await else { return ServingStatus::Unknown };
        let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
        request.set_timeout(Duration::from_secs(2));
        match HealthClient::new(channel).check(request).await {
            Ok(answer) => answer.into_inner().status(),
            Err(_) => ServingStatus::Unknown,
        }
    }

    /// Sends `signal` (`KILL`, `TERM`) to `process`.
    pub fn signal(&mut self, process: &'static str, signal: &str) -> anyhow::Result<()> {
        let pid = self.pid(process)?;
        if !self.environments.contains_key(process) {
            self.environments.insert(process, environment_of(pid)?);
        }
        let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status()?;
        if !status.success() {
            bail!("kill -{signal} {pid} ({process}) failed");
        }
        Ok(())
    }

    /// Waits (at most `within`) until `process` has exited; returns its exit
    /// code when this driver started it (`None`: killed by a signal, or
    /// started by run.sh).
    pub async fn wait_exit(&mut self, process: &'static str, within: Duration) -> anyhow::Result<Option<i32>> {
        if let Some(mut child) = self.children.remove(process) {
            let status = tokio::time::timeout(within, child.wait())
                .await
                .with_context(|| format!("{process} still running after {within:?}"))??;
            return Ok(status.code());
        }
        let pid = self.pid(process)?;
        let start = Instant::now();
        while start.elapsed() < within {
            if !alive(pid) {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("{process} (pid {pid}) still running after {within:?}")
    }

    /// kill -9 of `process`, returned once it is gone.
    pub async fn kill9(&mut self, process: &'static str) -> anyhow::Result<()> {
        self.signal(process, "KILL")?;
        self.wait_exit(process, Duration::from_secs(5)).await.map(drop)
    }

    /// Starts `process` again with the environment it had, plus
    /// `overrides`; its output goes on to its log; its pid file names the
    /// new process (so `run.sh --stop` ends it).
    pub fn restart(&mut self, process: &'static str, overrides: &[(&str, &str)]) -> anyhow::Result<()> {
        let environment = self.environments.get(process).with_context(|| format!("{process} was never stopped"))?;
        let log =
            std::fs::OpenOptions::new().append(true).create(true).open(self.state.join(format!("{process}.log")))?;
        let mut command = tokio::process::Command::new(self.bin.join(process));
        command.env_clear().envs(environment.iter().cloned()).stdout(log.try_clone()?).stderr(log);
        for (name, value) in overrides {
            command.env(name, value);
        }
        let child = command.spawn().with_context(|| format!("starting {process}"))?;
        let pid = child.id().context("the new process has no id")?;
        std::fs::write(self.state.join(format!("{process}.pid")), format!("{pid}\n"))?;
        self.children.insert(process, child);
        Ok(())
    }

    /// `pg_ctl restart -m immediate` of the private cluster (no shutdown
    /// checkpoint: crash recovery on start, every connection cut).
    pub async fn restart_postgres(&self) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let status = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&self.pg_restart)
            .stdout(std::process::Stdio::null())
            .status()
            .await?;
        if !status.success() {
            bail!("restarting PostgreSQL failed: {}", self.pg_restart);
        }
        Ok(start.elapsed())
    }

    /// Signs `email` in through the gateway from `from`; the session token.
    pub async fn sign_in(&self, from: IpAddr, email: &str, password: &str) -> anyhow::Result<String> {
        let mut auth = identity_pb::auth_service_client::AuthServiceClient::new(self.channel("gateway", from).await?);
        let answer =
            auth.sign_in(identity_pb::SignInRequest { email: email.into(), password: password.into() }).await?;
        Ok(answer.into_inner().session_token)
    }
}

/// Whether `pid` runs (a zombie left to init counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// The environment `pid` was started with.
fn environment_of(pid: u32) -> anyhow::Result<Vec<(OsString, OsString)>> {
    let raw =
        std::fs::read(format!("/proc/{pid}/environ")).with_context(|| format!("reading pid {pid}'s environment"))?;
    Ok(raw
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let at = entry.iter().position(|b| *b == b'=')?;
            Some((OsString::from_vec(entry[..at].to_vec()), OsString::from_vec(entry[at + 1..].to_vec())))
        })
        .collect())
}

/// What one scenario counted, printed as it goes; a broken promise fails
/// the scenario (and the run) without stopping the others.
#[derive(Default)]
pub struct Tally {
    /// Promises broken, one line each.
    pub broken: Vec<String>,
}

impl Tally {
    /// Prints one counted fact.
    pub fn count(&self, what: &str, value: impl std::fmt::Display) {
        println!("    {what:<52} {value}");
    }

    /// Records whether `promise` held.
    pub fn check(&mut self, promise: &str, held: bool, detail: impl std::fmt::Display) {
        if held {
            println!("    ok    {promise}");
        } else {
            println!("    FAIL  {promise}: {detail}");
            self.broken.push(format!("{promise}: {detail}"));
        }
    }
}

/// Answers counted by gRPC code, e.g. `OK 120, Unavailable 7`.
#[derive(Default)]
pub struct Codes(pub BTreeMap<String, usize>);

impl Codes {
    /// Counts one answer.
    pub fn add<T>(&mut self, answer: &Result<T, tonic::Status>) {
        let name = match answer {
            Ok(_) => "OK".to_owned(),
            Err(status) => format!("{:?}", status.code()),
        };
        *self.0.entry(name).or_default() += 1;
    }

    /// How many answers had code `name` (`"OK"`, `"Unavailable"`, …).
    pub fn of(&self, name: &str) -> usize {
        self.0.get(name).copied().unwrap_or(0)
    }

    /// All answers counted.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// Whether every answer was one of `allowed`.
    pub fn only(&self, allowed: &[&str]) -> bool {
        self.0.keys().all(|code| allowed.contains(&code.as_str()))
    }
}

impl std::fmt::Display for Codes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(code, n)| format!("{code} {n}")).collect();
        write!(f, "{}", if parts.is_empty() { "none".to_owned() } else { parts.join(", ") })
    }
}
