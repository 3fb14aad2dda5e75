//! The caller's deadline, passed on to the calls a handler makes
//! (RELIABILITY.md: "deadlines on every outgoing call, passing on what is
//! left of the caller's budget; work stops when the deadline has passed").
//!
//! The budget is the caller's `grpc-timeout`, capped by the server's own
//! request timeout (which cuts the call anyway). Outgoing calls get what is
//! left minus a small reserve, so that when a peer is too slow the handler
//! still has time to answer with its own status instead of the caller
//! seeing only DEADLINE_EXCEEDED.

use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::futures::TaskLocalFuture;
use tokio::time::Instant;
use tonic::Request;
use tonic::metadata::MetadataMap;

tokio::task_local! {
    /// The deadline of the call the current task serves, set by
    /// [`DeadlineLayer`].
    static CURRENT: Deadline;
}

/// Most time kept back from peers for the handler's own answer.
const MAX_RESERVE: Duration = Duration::from_millis(200);

/// When the call being served must have been answered.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

/// The `grpc-timeout` of a request's metadata (gRPC over HTTP/2: at most 8
/// digits and a unit of H, M, S, m, u or n); `None` when absent or malformed.
pub fn grpc_timeout(metadata: &MetadataMap) -> Option<Duration> {
    parse_grpc_timeout(metadata.get("grpc-timeout")?.to_str().ok()?)
}

fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at_checked(value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    match unit {
        "H" => Some(Duration::from_secs(amount * 3600)),
        "M" => Some(Duration::from_secs(amount * 60)),
        "S" => Some(Duration::from_secs(amount)),
        "m" => Some(Duration::from_millis(amount)),
        "u" => Some(Duration::from_micros(amount)),
        "n" => Some(Duration::from_nanos(amount)),
        _ => None,
    }
}

impl Deadline {
    /// The deadline of a call received now that asked for `asked` (its
    /// `grpc-timeout`), at most `limit` (the server's request timeout).
    fn capped(asked: Option<Duration>, limit: Duration) -> Self {
        Self::within(asked.map_or(limit, |timeout| timeout.min(limit)))
    }

    /// The deadline of the call this task serves (set by [`DeadlineLayer`]
    /// on every server), or `fallback` from now outside a served call (a
    /// relay, a job).
    pub fn current_or(fallback: Duration) -> Self {
        CURRENT.try_with(|deadline| *deadline).unwrap_or_else(|_| Self::within(fallback))
    }

    /// A deadline `budget` from now.
    pub fn within(budget: Duration) -> Self {
        Self { at: Instant::now() + budget, budget }
    }

    /// Time left (zero once past).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Time left for outgoing calls and local work: the remainder minus a
    /// reserve of a tenth of the whole budget (at most 200 ms) for the answer.
    pub fn for_work(&self) -> Duration {
        self.remaining().saturating_sub((self.budget / 10).min(MAX_RESERVE))
    }

    /// Sets an outgoing request's timeout to [`for_work`](Self::for_work).
    pub fn apply<T>(&self, request: &mut Request<T>) {
        request.set_timeout(self.for_work());
    }
}

/// Tower layer that makes each call's deadline (its `grpc-timeout`, at most
/// `limit`) the [`Deadline::current_or`] of the task serving it, so peer
/// calls pass on what is left without every handler threading it through.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    /// Deadlines capped at `limit` (the server's request timeout).
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService { inner, limit: self.limit }
    }
}

/// The service of [`DeadlineLayer`].
#[derive(Debug, Clone)]
pub struct DeadlineService<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> tower::Service<http::Request<B>> for DeadlineService<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<Deadline, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let asked = request.headers().get("grpc-timeout").and_then(|v| v.to_str().ok()).and_then(parse_grpc_timeout);
        let deadline = Deadline::capped(asked, self.limit);
        CURRENT.scope(deadline, self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_timeout(value: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        if let Ok(value) = value.parse() {
            metadata.insert("grpc-timeout", value);
        }
        metadata
    }

    #[test]
    fn grpc_timeouts_parse_every_unit_and_refuse_garbage() {
        assert_eq!(grpc_timeout(&with_timeout("2S")), Some(Duration::from_secs(2)));
        assert_eq!(grpc_timeout(&with_timeout("1500m")), Some(Duration::from_millis(1500)));
        assert_eq!(grpc_timeout(&with_timeout("1H")), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout(&with_timeout("3M")), Some(Duration::from_secs(180)));
        assert_eq!(grpc_timeout(&with_timeout("10u")), Some(Duration::from_micros(10)));
        assert_eq!(grpc_timeout(&with_timeout("10n")), Some(Duration::from_nanos(10)));
        for bad in ["", "S", "123456789S", "5X", "-1S"] {
            assert_eq!(grpc_timeout(&with_timeout(bad)), None, "{bad:?}");
        }
        assert_eq!(grpc_timeout(&MetadataMap::new()), None);
    }

    #[test]
    fn the_budget_is_capped_and_a_reserve_kept() {
        let deadline = Deadline::capped(Some(Duration::from_secs(60)), Duration::from_secs(10));
        assert!(deadline.remaining() <= Duration::from_secs(10));
        assert!(deadline.for_work() <= Duration::from_millis(9_800));
        assert!(deadline.for_work() > Duration::from_secs(9));
        let short = Deadline::within(Duration::from_millis(100));
        assert!(short.for_work() <= Duration::from_millis(90));
        assert_eq!(Deadline::within(Duration::ZERO).for_work(), Duration::ZERO);
    }

    #[tokio::test]
    async fn the_layer_makes_the_callers_deadline_current_for_the_handler() {
        use tower::{Layer, Service, ServiceExt};
        let handler = tower::service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(Deadline::current_or(Duration::from_secs(99)).remaining())
        });
        let mut service = DeadlineLayer::new(Duration::from_secs(10)).layer(handler);
        let asked = http::Request::builder().header("grpc-timeout", "1500m").body(()).unwrap_or_default();
        let left = service.ready().await.map(|s| s.call(asked));
        let left = match left {
            Ok(future) => future.await.ok(),
            Err(_) => None,
        };
        assert!(left.is_some_and(|d| d <= Duration::from_millis(1500) && d > Duration::from_secs(1)), "{left:?}");
        let unasked = service.call(http::Request::new(())).await.ok();
        assert!(unasked.is_some_and(|d| d <= Duration::from_secs(10) && d > Duration::from_secs(9)), "{unasked:?}");
        let outside = Deadline::current_or(Duration::from_secs(3)).remaining();
        assert!(outside <= Duration::from_secs(3) && outside > Duration::from_secs(2));
    }
}
