//! Per-address and per-user rate limits (GCRA, from `governor`), stricter on
//! the methods that guess passwords or create accounts. A refused call gets
//! RESOURCE_EXHAUSTED with a `RetryInfo` detail saying when to come back.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use jazz_platform::config::{ConfigError, env_parse};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

/// Rates, each a sustained rate plus a burst.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Calls per second per client address (`RATE_LIMIT_IP_PER_SEC`, 50).
    pub per_ip_per_sec: u32,
    /// Calls per second per signed-in user (`RATE_LIMIT_USER_PER_SEC`, 20).
    pub per_user_per_sec: u32,
    /// Credential calls per minute per address (`RATE_LIMIT_CREDENTIALS_PER_MIN`, 10).
    pub credentials_per_min: u32,
    /// How many calls may come at once above the rate (`RATE_LIMIT_BURST`, 2 × rate).
    pub burst_factor: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { per_ip_per_sec: 50, per_user_per_sec: 20, credentials_per_min: 10, burst_factor: 2 }
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
        })
    }
}

/// The limiters, shared by every connection.
pub struct RateLimiters {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<Uuid>,
    credentials: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl RateLimiters {
    /// Limiters for `limits`.
    pub fn new(limits: RateLimits) -> Self {
        let burst = |rate: u32| nonzero(rate.saturating_mul(limits.burst_factor.max(1)));
        let per_second = |rate: u32| Quota::per_second(nonzero(rate)).allow_burst(burst(rate));
        let credentials =
            Quota::per_minute(nonzero(limits.credentials_per_min)).allow_burst(nonzero(limits.credentials_per_min));
        Self {
            per_ip: RateLimiter::keyed(per_second(limits.per_ip_per_sec)),
            per_user: RateLimiter::keyed(per_second(limits.per_user_per_sec)),
            credentials: RateLimiter::keyed(credentials),
            clock: DefaultClock::default(),
        }
    }

    /// Admits or refuses a call to `path` from `ip` (before authentication).
    pub fn check_address(&self, path: &str, ip: Option<IpAddr>) -> Result<(), Status> {
        let Some(ip) = ip else { return Ok(()) };
        self.per_ip.check_key(&ip).map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))?;
        if crate::routes::access::credential(path) {
            self.credentials
                .check_key(&ip)
                .map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))?;
        }
        Ok(())
    }

    /// Admits or refuses a call by a signed-in user.
    pub fn check_user(&self, user_id: Uuid) -> Result<(), Status> {
        self.per_user.check_key(&user_id).map_err(|not_until| self.refuse(not_until.wait_time_from(self.clock.now())))
    }

    /// Forgets keys that are back at a full bucket (run periodically).
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.credentials.retain_recent();
    }

    fn refuse(&self, wait: Duration) -> Status {
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

    #[test]
    fn credential_calls_are_limited_per_address_with_a_retry_hint() {
        let limits = RateLimiters::new(RateLimits { credentials_per_min: 3, ..RateLimits::default() });
        let ip: IpAddr = [10, 0, 0, 1].into();
        let sign_in = "/jazz.identity.v1.AuthService/SignIn";
        for _ in 0..3 {
            assert!(limits.check_address(sign_in, Some(ip)).is_ok());
        }
        let refused = limits.check_address(sign_in, Some(ip)).err();
        assert_eq!(refused.as_ref().map(Status::code), Some(Code::ResourceExhausted));
        let retry = refused.and_then(|s| s.get_details_retry_info()).and_then(|r| r.retry_delay);
        assert!(retry.is_some_and(|d| d > Duration::ZERO));
        // Another address and other methods are unaffected.
        assert!(limits.check_address(sign_in, Some([10, 0, 0, 2].into())).is_ok());
        assert!(limits.check_address("/jazz.billing.v1.BillingService/ListPlans", Some(ip)).is_ok());
    }

    #[test]
    fn users_are_limited_one_by_one() {
        let limits = RateLimiters::new(RateLimits { per_user_per_sec: 1, burst_factor: 1, ..RateLimits::default() });
        let (a, b) = (jazz_platform::ids::new_id(), jazz_platform::ids::new_id());
        assert!(limits.check_user(a).is_ok());
        assert!(limits.check_user(a).is_err());
        assert!(limits.check_user(b).is_ok());
    }
}
