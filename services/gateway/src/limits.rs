//! Per-address and per-user rate limits (GCRA, from `governor`), stricter on
//! the methods that guess passwords or create accounts. A refused call gets
//! RESOURCE_EXHAUSTED with a `RetryInfo` detail saying when to come back,
//! and counts in `rate_limit_refusals_total{scope}` (`ip`, `credentials`,
//! `user`).
//!
//! Each gateway process checks its own limiters first. With `REDIS_URL` set,
//! a call they admit is then checked against the same limit kept in Redis
//! ([`crate::shared_limits`]), which every replica shares, so N replicas
//! still allow the limit once, not N times; while Redis cannot answer, the
//! in-process decision stands.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::shared_limits::{Cell, Shared, SharedLimiter};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jazz_platform::config::{ConfigError, env_or, env_parse};
use secrecy::{ExposeSecret as _, SecretString};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

/// Rates, each a sustained rate plus a burst, and where replicas share them.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Calls per second per client address (`RATE_LIMIT_IP_PER_SEC`, 50).
    pub per_ip_per_sec: u32,
    /// Calls per second per signed-in user (`RATE_LIMIT_USER_PER_SEC`, 20).
    pub per_user_per_sec: u32,
    /// Credential calls per minute per address (`RATE_LIMIT_CREDENTIALS_PER_MIN`, 10).
    pub credentials_per_min: u32,
    /// How many calls may come at once above the rate (`RATE_LIMIT_BURST`, 2 × rate).
    pub burst_factor: u32,
    /// The Redis every replica checks the same limits in (`REDIS_URL`);
    /// `None`: each process limits alone.
    pub shared: Option<SharedLimits>,
}

/// Where the limits shared by all gateway replicas are kept.
#[derive(Debug, Clone)]
pub struct SharedLimits {
    /// `redis://[:password@]host:port/db` (`REDIS_URL`); may hold a password.
    pub url: SecretString,
    /// Prefix of every key (`REDIS_KEY_PREFIX`, `jazz:rl`): one per
    /// deployment sharing a Redis.
    pub key_prefix: String,
    /// Longest wait for Redis per check before the in-process decision
    /// stands (`REDIS_TIMEOUT_MS`, 50).
    pub timeout: Duration,
}

impl SharedLimits {
    /// The limiter these settings describe.
    pub fn limiter(&self) -> Result<SharedLimiter, ConfigError> {
        SharedLimiter::new(self.url.expose_secret(), &self.key_prefix, self.timeout)
            .map_err(|e| ConfigError { name: "REDIS_URL".into(), reason: e.to_string() })
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_ip_per_sec: 50, per_user_per_sec: 20, credentials_per_min: 10, burst_factor: 2, shared: None }
    }
}

impl RateLimits {
    /// Reads the limits from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            per_ip_per_sec: env_parse("RATE_LIMIT_IP_PER_SEC", d.per_ip_per_sec)?,
            per_user_per_sec: env_parse("RATE_LIMIT_USER_PER_SEC", d.per_user_per_sec)?,
            credentials_per_min: env_parse("RATE_LIMIT_CREDENTIALS_PER_MIN", d.credentials_per_min)?,
            burst_factor: env_parse("RATE_LIMIT_BURST", d.burst_factor)?,
            shared: match std::env::var("REDIS_URL") {
                Ok(url) if !url.trim().is_empty() => Some(SharedLimits {
                    url: SecretString::from(url.trim().to_owned()),
                    key_prefix: env_or("REDIS_KEY_PREFIX", "jazz:rl"),
                    timeout: Duration::from_millis(env_parse("REDIS_TIMEOUT_MS", 50)?),
                }),
                _ => None,
            },
        })
    }
}

/// The limiters, shared by every connection.
pub struct RateLimiters {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<Uuid>,
    credentials: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    limits: RateLimits,
    shared: Option<SharedLimiter>,
}

/// Which limit refused a call (the `scope` label of the refusal counter).
#[derive(Debug, Clone, Copy)]
enum Scope {
    Ip,
    Credentials,
    User,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Credentials => "credentials",
            Self::User => "user",
        }
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimiters {
    /// In-process limiters for `limits`, checked in Redis too when
    /// `limits.shared` is set (connected on first use).
    pub fn new(limits: RateLimits) -> Result<Self, ConfigError> {
        let shared = limits.shared.as_ref().map(SharedLimits::limiter).transpose()?;
        let burst = |rate: u32| nonzero(rate.saturating_mul(limits.burst_factor.max(1)));
        let per_second = |rate: u32| Quota::per_second(nonzero(rate)).allow_burst(burst(rate));
        let credentials =
            Quota::per_minute(nonzero(limits.credentials_per_min)).allow_burst(nonzero(limits.credentials_per_min));
        Ok(Self {
            per_ip: RateLimiter::keyed(per_second(limits.per_ip_per_sec)),
            per_user: RateLimiter::keyed(per_second(limits.per_user_per_sec)),
            credentials: RateLimiter::keyed(credentials),
            clock: DefaultClock::default(),
            limits,
            shared,
        })
    }

    /// Admits or refuses a call to `path` from `ip` (before authentication).
    pub async fn check_address(&self, path: &str, ip: Option<IpAddr>) -> Result<(), Status> {
        let Some(ip) = ip else { return Ok(()) };
        let credential = crate::routes::access::credential(path);
        self.per_ip.check_key(&ip).map_err(|not_until| self.refuse(Scope::Ip, self.wait(not_until)))?;
        if credential {
            self.credentials
                .check_key(&ip)
                .map_err(|not_until| self.refuse(Scope::Credentials, self.wait(not_until)))?;
        }
        self.check_shared(Scope::Ip, &format!("ip:{ip}")).await?;
        if credential {
            self.check_shared(Scope::Credentials, &format!("credentials:{ip}")).await?;
        }
        Ok(())
    }

    /// Admits or refuses a call by a signed-in user.
    pub async fn check_user(&self, user_id: Uuid) -> Result<(), Status> {
        self.per_user.check_key(&user_id).map_err(|not_until| self.refuse(Scope::User, self.wait(not_until)))?;
        self.check_shared(Scope::User, &format!("user:{user_id}")).await
    }

    /// The shared limit of `scope` for `key`, when Redis is configured.
    async fn check_shared(&self, scope: Scope, key: &str) -> Result<(), Status> {
        let Some(shared) = &self.shared else { return Ok(()) };
        match shared.check(key, self.cell(scope)).await {
            Shared::Admitted | Shared::Unavailable => Ok(()),
            Shared::Refused(wait) => Err(self.refuse(scope, wait)),
        }
    }

    /// The rate and burst of `scope`, as the in-process limiter has them.
    fn cell(&self, scope: Scope) -> Cell {
        let burst = |rate: u32| rate.max(1).saturating_mul(self.limits.burst_factor.max(1));
        let per_second = |rate: u32| Cell { interval: Duration::from_secs(1) / rate.max(1), burst: burst(rate) };
        match scope {
            Scope::Ip => per_second(self.limits.per_ip_per_sec),
            Scope::User => per_second(self.limits.per_user_per_sec),
            Scope::Credentials => Cell {
                interval: Duration::from_secs(60) / self.limits.credentials_per_min.max(1),
                burst: self.limits.credentials_per_min.max(1),
            },
        }
    }

    fn wait(&self, not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
        not_until.wait_time_from(self.clock.now())
    }

    /// Forgets keys that are back at a full bucket (run periodically).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.credentials.retain_recent();
    }

    fn refuse(&self, scope: Scope, wait: Duration) -> Status {
        metrics::counter!("rate_limit_refusals_total", "scope" => scope.as_str()).increment(1);
        let wait = wait.max(Duration::from_millis(1));
        let details = ErrorDetails::with_retry_info(Some(wait));
        Status::with_error_details(
            Code::ResourceExhausted,
            format!("rate limit reached; retry in {} ms", wait.as_millis()),
            details,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn credential_calls_are_limited_per_address_with_a_retry_hint() -> Result<(), ConfigError> {
        let limits = RateLimiters::new(RateLimits { credentials_per_min: 3, ..RateLimits::default() })?;
        let ip: IpAddr = [10, 0, 0, 1].into();
        let sign_in = "/jazz.identity.v1.AuthService/SignIn";
        for _ in 0..3 {
            assert!(limits.check_address(sign_in, Some(ip)).await.is_ok());
        }
        let refused = limits.check_address(sign_in, Some(ip)).await.err();
        assert_eq!(refused.as_ref().map(Status::code), Some(Code::ResourceExhausted));
        let retry = refused.and_then(|s| s.get_details_retry_info()).and_then(|r| r.retry_delay);
        assert!(retry.is_some_and(|d| d > Duration::ZERO));
        // Another address and other methods are unaffected.
        assert!(limits.check_address(sign_in, Some([10, 0, 0, 2].into())).await.is_ok());
        assert!(limits.check_address("/jazz.billing.v1.BillingService/ListPlans", Some(ip)).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn users_are_limited_one_by_one() -> Result<(), ConfigError> {
        let limits = RateLimiters::new(RateLimits { per_user_per_sec: 1, burst_factor: 1, ..RateLimits::default() })?;
        let (a, b) = (jazz_platform::ids::new_id(), jazz_platform::ids::new_id());
        assert!(limits.check_user(a).await.is_ok());
        assert!(limits.check_user(a).await.is_err());
        assert!(limits.check_user(b).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn an_unreachable_redis_leaves_the_in_process_limits_in_charge() -> Result<(), ConfigError> {
        // Nothing listens on port 1: every shared check falls back.
        let shared = SharedLimits {
            url: SecretString::from("redis://127.0.0.1:1/"),
            key_prefix: "jazz-test".into(),
            timeout: Duration::from_millis(200),
        };
        let limits = RateLimits { per_user_per_sec: 1, burst_factor: 2, shared: Some(shared), ..RateLimits::default() };
        let limits = RateLimiters::new(limits)?;
        let user = jazz_platform::ids::new_id();
        assert!(limits.check_user(user).await.is_ok());
        assert!(limits.check_user(user).await.is_ok());
        let refused = limits.check_user(user).await.err();
        assert_eq!(refused.as_ref().map(Status::code), Some(Code::ResourceExhausted));
        Ok(())
    }

    #[test]
    fn a_malformed_redis_url_is_a_configuration_error() {
        let shared = SharedLimits {
            url: SecretString::from("not-a-url"),
            key_prefix: "jazz-test".into(),
            timeout: Duration::from_millis(50),
        };
        let error = RateLimiters::new(RateLimits { shared: Some(shared), ..RateLimits::default() }).err();
        assert_eq!(error.map(|e| e.name), Some("REDIS_URL".to_owned()));
    }
}
