//! Rate limits shared by every gateway replica, kept in Redis (`REDIS_URL`).
//!
//! Each limit is one GCRA cell per key, updated by one Lua script that reads
//! Redis's own clock, so the check-and-update is atomic across replicas and
//! no replica's clock matters. The in-process limiters ([`crate::limits`])
//! still run first: a flood from one address is refused without a round
//! trip, and they alone decide while Redis cannot be reached.
//!
//! Redis trouble is never the caller's: a failed or slow (`REDIS_TIMEOUT_MS`)
//! check admits the call on the in-process decision, counts
//! `rate_limit_redis_fallbacks_total`, and the connection is retried at most
//! once per [`RECONNECT_EVERY`], so a Redis outage costs each call nothing.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

/// Longest pause between two attempts to reach Redis while it is down.
pub const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// GCRA over one key. `ARGV[1]`: the emission interval in microseconds
/// (period / rate), `ARGV[2]`: the burst. Stores the theoretical arrival
/// time (microseconds, Redis clock) and expires it once the cell is full
/// again. Answers `{1, 0}` (admitted) or `{0, wait_us}` (refused).
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
if allowed_at > now then
  return {0, allowed_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
";

/// One shared limit: a sustained rate (one call per `interval`) and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Time between two calls at the sustained rate.
    pub interval: Duration,
    /// Calls allowed at once from a full cell.
    pub burst: u32,
}

/// What Redis said about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// Within the shared limit.
    Admitted,
    /// Over it: come back after this long.
    Refused(Duration),
    /// Redis could not answer in time: the in-process decision stands.
    Unavailable,
}

enum Link {
    Up(MultiplexedConnection),
    Down { retry_at: Instant },
}

/// The Redis side of the limits.
pub struct SharedLimiter {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    script: redis::Script,
    link: Mutex<Link>,
}

impl SharedLimiter {
    /// A limiter on the Redis at `url` (`redis://host:port/db`), keys under
    /// `prefix`; no connection is made until the first call.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            prefix: prefix.to_owned(),
            timeout,
            script: redis::Script::new(GCRA),
            link: Mutex::new(Link::Down { retry_at: Instant::now() }),
        })
    }

    /// Takes one call from `cell` under `key` (e.g. `ip:10.0.0.1`).
    pub async fn check(&self, key: &str, cell: Cell) -> Shared {
        let Some(mut connection) = self.connection().await else { return self.fallback() };
        let interval_us = u64::try_from(cell.interval.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut call = self.script.prepare_invoke();
        call.key(format!("{}:{key}", self.prefix)).arg(interval_us).arg(cell.burst.max(1));
        match tokio::time::timeout(self.timeout, call.invoke_async::<(i64, i64)>(&mut connection)).await {
            Ok(Ok((1, _))) => Shared::Admitted,
            Ok(Ok((_, wait_us))) => Shared::Refused(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0))),
            Ok(Err(error)) => {
                tracing::warn!(%error, "redis rate-limit check failed; in-process limits only");
                self.mark_down();
                self.fallback()
            }
            Err(_) => {
                tracing::warn!(timeout_ms = self.timeout.as_millis(), "redis rate-limit check timed out");
                self.mark_down();
                self.fallback()
            }
        }
    }

    fn fallback(&self) -> Shared {
        metrics::counter!("rate_limit_redis_fallbacks_total").increment(1);
        Shared::Unavailable
    }

    fn mark_down(&self) {
        if let Ok(mut link) = self.link.lock() {
            *link = Link::Down { retry_at: Instant::now() + RECONNECT_EVERY };
        }
    }

    /// The live connection; while Redis is down, `None` at once except for
    /// the one caller per [`RECONNECT_EVERY`] that tries to reconnect.
    async fn connection(&self) -> Option<MultiplexedConnection> {
        {
            let mut link = self.link.lock().ok()?;
            match &*link {
                Link::Up(connection) => return Some(connection.clone()),
                Link::Down { retry_at } if *retry_at > Instant::now() => return None,
                Link::Down { .. } => *link = Link::Down { retry_at: Instant::now() + RECONNECT_EVERY },
            }
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connecting = self.client.get_multiplexed_async_connection_with_config(&config);
        match tokio::time::timeout(self.timeout, connecting).await {
            Ok(Ok(connection)) => {
                tracing::info!("redis reached: rate limits shared across gateways");
                if let Ok(mut link) = self.link.lock() {
                    *link = Link::Up(connection.clone());
                }
                Some(connection)
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "redis unreachable; in-process rate limits only");
                None
            }
            Err(_) => {
                tracing::warn!("redis connection timed out; in-process rate limits only");
                None
            }
        }
    }
}
