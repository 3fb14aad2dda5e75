//! Configuration from the environment, one struct per area.
//!
//! Every address, URL and secret comes from an environment variable with a
//! development default, so a service runs alone (`cargo run -p identity`)
//! as it would in deployment. Secrets are [`SecretString`]s: they never reach
//! a log line through `Debug`.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

/// The four data-owning services and the gateway, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceName {
    /// Users, sessions, accounts, feature flags.
    Identity,
    /// Plans, subscriptions, quotas, Stripe.
    Billing,
    /// Generated content, saved content, likes.
    Content,
    /// Practice sessions, progress, metrics.
    Progress,
    /// The public front door.
    Gateway,
}

impl ServiceName {
    /// Every data-owning service (the gateway owns no database).
    pub const DATA_SERVICES: [ServiceName; 4] = [Self::Identity, Self::Billing, Self::Content, Self::Progress];

    /// Lower-case name, as used in database names, logs and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Billing => "billing",
            Self::Content => "content",
            Self::Progress => "progress",
            Self::Gateway => "gateway",
        }
    }

    /// Upper-case prefix of this service's environment variables.
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Identity => "IDENTITY",
            Self::Billing => "BILLING",
            Self::Content => "CONTENT",
            Self::Progress => "PROGRESS",
            Self::Gateway => "GATEWAY",
        }
    }

    /// The default port (DESIGN.md section 7).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Gateway => 50051,
            Self::Identity => 50061,
            Self::Billing => 50062,
            Self::Content => 50063,
            Self::Progress => 50064,
        }
    }

    /// The default port of the Prometheus endpoint (`<SVC>_METRICS_ADDR`):
    /// the gRPC port's last two digits after 90 (gateway 9051, identity
    /// 9061, …).
    pub fn default_metrics_port(self) -> u16 {
        self.default_port() - 50000 + 9000
    }

    /// The default database on the local server, e.g. `jazz_identity`.
    pub fn default_database(self) -> String {
        format!("jazz_{}", self.as_str())
    }
}

/// A configuration value that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    /// The variable's name.
    pub name: String,
    /// What is wrong with its value.
    pub reason: String,
}

/// Reads `name`, falling back to `default` when it is unset or empty.
pub fn env_or(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => default.to_owned(),
    }
}

/// Reads and parses `name`, falling back to `default` when unset.
pub fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|e: T::Err| ConfigError { name: name.to_owned(), reason: e.to_string() })
        }
        _ => Ok(default),
    }
}

/// The base URL of the local PostgreSQL server when nothing else is set.
pub const DEFAULT_POSTGRES_BASE: &str = "postgres://postgres@127.0.0.1:5432";

/// Where a service's database is and how many connections to keep.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `postgres://…` URL of the service's own database.
    pub url: SecretString,
    /// Largest number of pooled connections. Postgres slows as connections
    /// grow; 8–16 per service is the measured sweet spot on 2 cores.
    pub max_connections: usize,
    /// How long a caller waits for a pooled connection before UNAVAILABLE.
    pub acquire_timeout: Duration,
    /// How pooled connections plan prepared statements (decision 42).
    pub plan_cache_mode: PlanCacheMode,
}

/// PostgreSQL's `plan_cache_mode` for pooled connections
/// (`DATABASE_PLAN_CACHE_MODE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlanCacheMode {
    /// `force_generic_plan`: each prepared statement is planned once.
    #[default]
    Generic,
    /// `auto`: PostgreSQL's default, which plans a statement again on every
    /// execution while its generic plan looks dearer than custom ones.
    Auto,
}

impl PlanCacheMode {
    /// What `make bench` measured best for `service`: generic plans, but
    /// for progress, whose learning-loop reads (ranges of a learner's
    /// history, lateral joins) plan better for their values: ~15% fewer
    /// calls per second with generic plans, while content gained 45%.
    pub fn for_service(service: ServiceName) -> Self {
        match service {
            ServiceName::Progress => Self::Auto,
            _ => Self::Generic,
        }
    }

    /// The setting's value in PostgreSQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "force_generic_plan",
            Self::Auto => "auto",
        }
    }
}

impl std::str::FromStr for PlanCacheMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "force_generic_plan" => Ok(Self::Generic),
            "auto" => Ok(Self::Auto),
            other => Err(format!("{other:?} is not force_generic_plan or auto")),
        }
    }
}

impl DatabaseConfig {
    /// `<SVC>_DATABASE_URL`, else `DATABASE_URL`, else `jazz_<svc>` on the
    /// local server; `DATABASE_MAX_CONNECTIONS` (default 12),
    /// `DATABASE_ACQUIRE_TIMEOUT_MS` (2 000), `DATABASE_PLAN_CACHE_MODE`
    /// (`force_generic_plan` or `auto`; [`PlanCacheMode::for_service`]).
    pub fn from_env(service: ServiceName) -> Result<Self, ConfigError> {
        let url = std::env::var(format!("{}_DATABASE_URL", service.env_prefix()))
            .or_else(|_| std::env::var("DATABASE_URL"))
            .unwrap_or_else(|_| format!("{DEFAULT_POSTGRES_BASE}/{}", service.default_database()));
        Ok(Self {
            url: SecretString::from(url),
            max_connections: env_parse("DATABASE_MAX_CONNECTIONS", 12)?,
            acquire_timeout: Duration::from_millis(env_parse("DATABASE_ACQUIRE_TIMEOUT_MS", 2_000)?),
            plan_cache_mode: env_parse("DATABASE_PLAN_CACHE_MODE", PlanCacheMode::for_service(service))?,
        })
    }
}

/// Limits every server applies (RELIABILITY.md, "gRPC").
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Longest a call may run when the caller sets no shorter deadline.
    pub request_timeout: Duration,
    /// Calls in flight at once across all connections; more are shed with
    /// UNAVAILABLE rather than queued.
    pub max_concurrent_requests: usize,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// Largest decoded request message, in bytes.
    pub max_decoding_message_size: usize,
    /// HTTP/2 keepalive ping interval.
    pub keepalive_interval: Duration,
    /// When set, each connection is closed gracefully (GOAWAY, in-flight
    /// calls finish) after this age, so clients reconnect and re-resolve,
    /// and pods added behind a headless Service get their share.
    pub max_connection_age: Option<Duration>,
}

impl ServerLimits {
    /// `REQUEST_TIMEOUT_MS` (10 000), `MAX_CONCURRENT_REQUESTS` (512),
    /// `MAX_CONCURRENT_STREAMS` (256), `MAX_MESSAGE_BYTES` (4 MiB),
    /// `KEEPALIVE_INTERVAL_MS` (30 000), `MAX_CONNECTION_AGE_SECS` (0: no
    /// limit).
    pub fn from_env() -> Result<Self, ConfigError> {
        let max_age_secs: u64 = env_parse("MAX_CONNECTION_AGE_SECS", 0)?;
        Ok(Self {
            request_timeout: Duration::from_millis(env_parse("REQUEST_TIMEOUT_MS", 10_000)?),
            max_concurrent_requests: env_parse("MAX_CONCURRENT_REQUESTS", 512)?,
            max_concurrent_streams: env_parse("MAX_CONCURRENT_STREAMS", 256)?,
            max_decoding_message_size: env_parse("MAX_MESSAGE_BYTES", 4 * 1024 * 1024)?,
            keepalive_interval: Duration::from_millis(env_parse("KEEPALIVE_INTERVAL_MS", 30_000)?),
            max_connection_age: (max_age_secs > 0).then(|| Duration::from_secs(max_age_secs)),
        })
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_concurrent_requests: 512,
            max_concurrent_streams: 256,
            max_decoding_message_size: 4 * 1024 * 1024,
            keepalive_interval: Duration::from_secs(30),
            max_connection_age: None,
        }
    }
}

/// gRPC addresses of the other services, for service-to-service calls.
#[derive(Debug, Clone)]
pub struct PeerUrls {
    /// Identity service, e.g. `http://127.0.0.1:50061`.
    pub identity: String,
    /// Billing service.
    pub billing: String,
    /// Content service.
    pub content: String,
    /// Progress service.
    pub progress: String,
}

impl PeerUrls {
    /// `<SVC>_URL` for each peer, defaulting to the local default ports.
    pub fn from_env() -> Self {
        let url = |svc: ServiceName| {
            env_or(&format!("{}_URL", svc.env_prefix()), &format!("http://127.0.0.1:{}", svc.default_port()))
        };
        Self {
            identity: url(ServiceName::Identity),
            billing: url(ServiceName::Billing),
            content: url(ServiceName::Content),
            progress: url(ServiceName::Progress),
        }
    }
}

/// Everything a data-owning service needs to start.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Which service this is.
    pub service: ServiceName,
    /// Where to listen.
    pub listen: Listen,
    /// The service's own database.
    pub database: DatabaseConfig,
    /// The other services.
    pub peers: PeerUrls,
    /// Key that signs and verifies principals (shared by gateway and services).
    pub principal_secret: SecretString,
    /// Apply pending migrations at start instead of refusing to start.
    pub migrate_on_start: bool,
    /// Server limits.
    pub limits: ServerLimits,
    /// How often the outbox relay looks for events to deliver.
    pub relay_interval: Duration,
}

impl ServiceConfig {
    /// Reads the whole configuration of `service` from the environment:
    /// `<SVC>_ADDR` (else `0.0.0.0:<default port>`), the database, peers,
    /// `PRINCIPAL_SECRET` (required, ≥ 32 bytes), `MIGRATE_ON_START`,
    /// `OUTBOX_RELAY_INTERVAL_MS` (1000).
    pub fn from_env(service: ServiceName) -> Result<Self, ConfigError> {
        let addr_var = format!("{}_ADDR", service.env_prefix());
        let listen_addr = env_parse(&addr_var, SocketAddr::from(([0, 0, 0, 0], service.default_port())))?;
        Ok(Self {
            service,
            listen: Listen::Addr(listen_addr),
            database: DatabaseConfig::from_env(service)?,
            peers: PeerUrls::from_env(),
            principal_secret: principal_secret_from_env()?,
            migrate_on_start: env_parse("MIGRATE_ON_START", false)?,
            limits: ServerLimits::from_env()?,
            relay_interval: Duration::from_millis(env_parse("OUTBOX_RELAY_INTERVAL_MS", 1_000)?),
        })
    }
}

/// Where a server takes its connections from.
#[derive(Debug, Clone)]
pub enum Listen {
    /// Bind this address at start (port 0 picks a free one).
    Addr(SocketAddr),
    /// Serve on a listener the caller has already bound. Tests bind every
    /// port first, so each service knows its peers' addresses before any
    /// starts, and no port is ever freed and bound again (another process
    /// could take it in between).
    Bound(BoundListener),
}

impl Listen {
    /// A listener bound now on `127.0.0.1:0`, for tests.
    pub fn loopback() -> std::io::Result<Self> {
        Ok(Self::Bound(BoundListener::new(std::net::TcpListener::bind("127.0.0.1:0")?)?))
    }

    /// The address served: the bound one, or the one to bind.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Self::Addr(addr) => *addr,
            Self::Bound(bound) => bound.local_addr,
        }
    }
}

/// A bound listener handed to exactly one server; configs are cloned, the
/// socket is not, so the first server to start takes it.
#[derive(Debug, Clone)]
pub struct BoundListener {
    local_addr: SocketAddr,
    socket: std::sync::Arc<std::sync::Mutex<Option<std::net::TcpListener>>>,
}

impl BoundListener {
    /// Wraps `listener` (made non-blocking, as tokio needs it).
    pub fn new(listener: std::net::TcpListener) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(Self {
            local_addr: listener.local_addr()?,
            socket: std::sync::Arc::new(std::sync::Mutex::new(Some(listener))),
        })
    }

    /// The listener, once; `None` when a server has already taken it.
    pub fn take(&self) -> Option<std::net::TcpListener> {
        self.socket.lock().ok().and_then(|mut socket| socket.take())
    }
}

/// `PRINCIPAL_SECRET`: the HMAC key of signed principals, at least 32 bytes.
pub fn principal_secret_from_env() -> Result<SecretString, ConfigError> {
    let secret = std::env::var("PRINCIPAL_SECRET").map_err(|_| ConfigError {
        name: "PRINCIPAL_SECRET".into(),
        reason: "is required (at least 32 random bytes; `make run` generates one)".into(),
    })?;
    if secret.len() < 32 {
        return Err(ConfigError { name: "PRINCIPAL_SECRET".into(), reason: "must be at least 32 bytes long".into() });
    }
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_cache_modes_parse_and_default_per_service() {
        assert_eq!("auto".parse(), Ok(PlanCacheMode::Auto));
        assert_eq!("force_generic_plan".parse::<PlanCacheMode>().map(PlanCacheMode::as_str), Ok("force_generic_plan"));
        assert!("force_custom_plan".parse::<PlanCacheMode>().is_err());
        assert_eq!(PlanCacheMode::for_service(ServiceName::Content), PlanCacheMode::Generic);
        assert_eq!(PlanCacheMode::for_service(ServiceName::Progress), PlanCacheMode::Auto);
    }
}
