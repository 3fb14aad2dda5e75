//! Gateway configuration from the environment.

use std::net::SocketAddr;
use std::time::Duration;

use jazz_platform::ServiceName;
use jazz_platform::config::{ConfigError, Listen, PeerUrls, ServerLimits, env_parse, principal_secret_from_env};
use secrecy::SecretString;

use crate::limits::RateLimits;

/// Everything the gateway needs to start.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The public listener: `GATEWAY_ADDR`, default `0.0.0.0:50051`.
    pub listen: Listen,
    /// Where the services are (`IDENTITY_URL`, `BILLING_URL`, …).
    pub peers: PeerUrls,
    /// Key that signs the principals the services verify.
    pub principal_secret: SecretString,
    /// Limits on the public listener.
    pub limits: ServerLimits,
    /// How long a validated session is trusted without asking identity
    /// again: the longest a revoked session keeps working.
    pub auth_cache_ttl: Duration,
    /// Per-address and per-user rate limits.
    pub rate_limits: RateLimits,
    /// Browser origins allowed to call over gRPC-Web
    /// (`CORS_ALLOWED_ORIGINS`, comma-separated; empty: same origin only).
    pub cors_allowed_origins: Vec<String>,
}

impl GatewayConfig {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let default_addr = SocketAddr::from(([0, 0, 0, 0], ServiceName::Gateway.default_port()));
        Ok(Self {
            listen: Listen::Addr(env_parse("GATEWAY_ADDR", default_addr)?),
            peers: PeerUrls::from_env(),
            principal_secret: principal_secret_from_env()?,
            limits: ServerLimits::from_env()?,
            auth_cache_ttl: Duration::from_millis(env_parse("AUTH_CACHE_TTL_MS", 5_000)?),
            rate_limits: RateLimits::from_env()?,
            cors_allowed_origins: std::env::var("CORS_ALLOWED_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}
