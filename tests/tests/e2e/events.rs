//! Events between services: written to the producer's outbox in the same
//! transaction as the change, delivered at least once by the relay, applied
//! once by the receiver.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_e2e::Suite;
use jazz_platform::ServiceName;
use jazz_platform::relay::{Deliver, OutboxEvent, Undelivered, run_once};
use jazz_platform::testing::TestDatabase;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str, bind: &str) -> anyhow::Result<i64> {
    let row: Count = diesel::sql_query(sql).bind::<Text, _>(bind).get_result(conn).await?;
    Ok(row.n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_gets_a_free_subscription_through_the_outbox() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let mut auth = identity_pb::auth_service_client::AuthServiceClient::new(suite.gateway_channel().await?);
    let email = "ella@example.com";
    auth.sign_up(identity_pb::SignUpRequest {
        email: email.into(),
        password: "a-foggy-day-in-london-town".into(),
        first_name: "Ella".into(),
        last_name: "Fitzgerald".into(),
        timezone: "America/New_York".into(),
        locale: "en-US".into(),
        ..Default::default()
    })
    .await?;

    let url_of = |svc: ServiceName| suite.databases.iter().find(|(s, _)| *s == svc).map(|(_, d)| d.url.clone());
    let mut identity_db = AsyncPgConnection::establish(&url_of(ServiceName::Identity).unwrap_or_default()).await?;
    let mut billing_db = AsyncPgConnection::establish(&url_of(ServiceName::Billing).unwrap_or_default()).await?;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let user: Id = diesel::sql_query("SELECT id FROM users WHERE email = $1")
        .bind::<Text, _>(email)
        .get_result(&mut identity_db)
        .await?;
    let user_id = user.id.to_string();

    let mut subscriptions = 0;
    for _ in 0..100 {
        subscriptions = count(
            &mut billing_db,
            "SELECT count(*) AS n FROM subscriptions WHERE user_id = $1::uuid AND tier = 'FREE'",
            &user_id,
        )
        .await?;
        if subscriptions > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(subscriptions, 1, "billing made the FREE subscription from the event");
    // The relay marks the event delivered when billing has answered; its
    // transaction may commit a moment after billing's.
    let mut delivered = 0;
    for _ in 0..50 {
        delivered = count(
            &mut identity_db,
            "SELECT count(*) AS n FROM outbox_events WHERE aggregate_id = $1 AND status = 'delivered' \
             AND event_type = 'identity.user_created'",
            &jazz_platform::ids::to_api(user.id),
        )
        .await?;
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered, 1);
    let applied = count(
        &mut billing_db,
        "SELECT count(*) AS n FROM processed_events WHERE event_type = $1",
        "identity.user_created",
    )
    .await?;
    assert_eq!(applied, 1, "recorded once in billing's inbox");
    Ok(())
}

/// Counts deliveries per event; fails every event's first attempt.
#[derive(Default)]
struct Flaky {
    seen: Mutex<HashMap<Uuid, u32>>,
}

#[tonic::async_trait]
impl Deliver for Flaky {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let mut seen = self.seen.lock().map_err(|_| Undelivered::from("poisoned"))?;
        let tries = seen.entry(event.id).or_default();
        *tries += 1;
        if *tries == 1 { Err("receiver down".into()) } else { Ok(()) }
    }
}

/// Refuses events whose payload says `"bad": true` as invalid, fails the
/// rest as unreachable, and counts calls.
#[derive(Default)]
struct Refusing {
    calls: Mutex<u32>,
}

#[tonic::async_trait]
impl Deliver for Refusing {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        *self.calls.lock().map_err(|_| Undelivered::from("poisoned"))? += 1;
        if event.payload.get("bad").and_then(serde_json::Value::as_bool) == Some(true) {
            Err(Undelivered::Rejected("receiver: INVALID_ARGUMENT".into()))
        } else {
            Err("receiver: UNAVAILABLE".into())
        }
    }
}

/// Holds each delivery until released, as a relay stuck on a slow receiver.
struct Stuck {
    release: tokio::sync::Notify,
    started: tokio::sync::Notify,
}

#[tonic::async_trait]
impl Deliver for Stuck {
    async fn deliver(&self, _event: &OutboxEvent) -> Result<(), Undelivered> {
        self.started.notify_one();
        self.release.notified().await;
        Ok(())
    }
}

async fn relay_pool(db: &TestDatabase) -> anyhow::Result<jazz_platform::DbPool> {
    let config = jazz_platform::config::DatabaseConfig {
        url: secrecy::SecretString::from(db.url.clone()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    };
    jazz_platform::db::pool(&config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_without_end_and_only_a_rejection_is_dead() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    jazz_platform::outbox::enqueue(&mut conn, "test.event", "a", serde_json::json!({ "bad": false })).await?;
    jazz_platform::outbox::enqueue(&mut conn, "test.event", "b", serde_json::json!({ "bad": true })).await?;
    let pool = relay_pool(&db).await?;
    let refusing = Refusing::default();
    for _ in 0..30 {
        diesel::sql_query("UPDATE outbox_events SET next_attempt_at = now() WHERE status = 'pending'")
            .execute(&mut conn)
            .await?;
        assert_eq!(run_once(ServiceName::Identity, &pool, &refusing).await?, 0);
    }
    let state = |aggregate: &str| {
        format!("SELECT count(*) AS n FROM outbox_events WHERE aggregate_id = '{aggregate}' AND status = $1")
    };
    assert_eq!(count(&mut conn, &state("a"), "pending").await?, 1, "30 failures and still pending");
    assert_eq!(count(&mut conn, &state("b"), "dead").await?, 1, "a rejection is dead at once");
    assert_eq!(*refusing.calls.lock().map_err(|_| anyhow::anyhow!("poisoned"))?, 31, "the dead event was tried once");
    let wait = count(
        &mut conn,
        "SELECT (extract(epoch FROM next_attempt_at - now()) > 290 AND extract(epoch FROM next_attempt_at - now()) <= 300)::int::bigint AS n FROM outbox_events WHERE aggregate_id = $1",
        "a",
    )
    .await?;
    assert_eq!(wait, 1, "the backoff is capped at five minutes");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_event_is_left_to_its_relay_until_the_lease_ends() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    jazz_platform::outbox::enqueue(&mut conn, "test.event", "a", serde_json::json!({})).await?;
    let pool = relay_pool(&db).await?;
    let stuck = Arc::new(Stuck { release: tokio::sync::Notify::new(), started: tokio::sync::Notify::new() });
    let first = tokio::spawn({
        let (pool, stuck) = (pool.clone(), stuck.clone());
        async move { run_once(ServiceName::Identity, &pool, stuck.as_ref()).await }
    });
    stuck.started.notified().await;
    // The claim is committed before the delivery: no transaction is open,
    // and a second relay finds nothing due while the lease runs.
    let open = count(
        &mut conn,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE $1",
        "idle in transaction%",
    )
    .await?;
    assert_eq!(open, 0, "no transaction spans the delivery");
    let leased = count(
        &mut conn,
        "SELECT count(*) AS n FROM outbox_events WHERE leased_until > now() + interval '290 seconds' AND status = $1",
        "pending",
    )
    .await?;
    assert_eq!(leased, 1, "the lease is visible while the delivery runs");
    let flaky = Flaky::default();
    assert_eq!(run_once(ServiceName::Identity, &pool, &flaky).await?, 0, "leased to the first relay");
    // The first relay dies (its lease runs out): the event is delivered again.
    first.abort();
    diesel::sql_query("UPDATE outbox_events SET next_attempt_at = now()").execute(&mut conn).await?;
    let retried = Flaky::default();
    run_once(ServiceName::Identity, &pool, &retried).await?; // first attempt fails by design
    diesel::sql_query("UPDATE outbox_events SET next_attempt_at = now()").execute(&mut conn).await?;
    assert_eq!(run_once(ServiceName::Identity, &pool, &retried).await?, 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM outbox_events WHERE status = $1 AND leased_until IS NULL",
            "delivered"
        )
        .await?,
        1,
        "delivered, and the lease ended with it"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_at_once_deliver_each_event_once_after_a_retry() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    for i in 0..40 {
        jazz_platform::outbox::enqueue(&mut conn, "test.event", &format!("row-{i}"), serde_json::json!({ "i": i }))
            .await?;
    }
    let pool = relay_pool(&db).await?;
    let flaky = Arc::new(Flaky::default());
    // Make every failed event due again at once, then run two relays side by side.
    for _ in 0..10 {
        diesel::sql_query("UPDATE outbox_events SET next_attempt_at = now() WHERE status = 'pending'")
            .execute(&mut conn)
            .await?;
        let (a, b) = tokio::join!(
            run_once(ServiceName::Identity, &pool, flaky.as_ref()),
            run_once(ServiceName::Identity, &pool, flaky.as_ref())
        );
        a?;
        b?;
    }
    let seen = flaky.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 40);
    assert!(seen.values().all(|tries| *tries == 2), "each event: one failure, one success, never more");
    let delivered = count(&mut conn, "SELECT count(*) AS n FROM outbox_events WHERE status = $1", "delivered").await?;
    assert_eq!(delivered, 40);
    Ok(())
}

/// What the relay reported through the `metrics` facade, by name and sorted
/// labels: `relay_deliveries_total{outcome=dead,service=identity}`.
#[derive(Default)]
struct Recorded(Mutex<HashMap<String, Arc<::metrics::atomics::AtomicU64>>>);

impl Recorded {
    fn handle(&self, key: &::metrics::Key) -> Arc<::metrics::atomics::AtomicU64> {
        let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().map(|mut all| all.entry(name).or_default().clone()).unwrap_or_default()
    }

    fn value(&self, name: &str) -> Option<u64> {
        let all = self.0.lock().ok()?;
        all.get(name).map(|v| std::sync::atomic::AtomicU64::load(v, std::sync::atomic::Ordering::Acquire))
    }

    fn gauge(&self, name: &str) -> Option<f64> {
        self.value(name).map(f64::from_bits)
    }
}

impl ::metrics::Recorder for Recorded {
    fn describe_counter(&self, _: ::metrics::KeyName, _: Option<::metrics::Unit>, _: ::metrics::SharedString) {}
    fn describe_gauge(&self, _: ::metrics::KeyName, _: Option<::metrics::Unit>, _: ::metrics::SharedString) {}
    fn describe_histogram(&self, _: ::metrics::KeyName, _: Option<::metrics::Unit>, _: ::metrics::SharedString) {}
    fn register_counter(&self, key: &::metrics::Key, _: &::metrics::Metadata<'_>) -> ::metrics::Counter {
        ::metrics::Counter::from_arc(self.handle(key))
    }
    fn register_gauge(&self, key: &::metrics::Key, _: &::metrics::Metadata<'_>) -> ::metrics::Gauge {
        ::metrics::Gauge::from_arc(self.handle(key))
    }
    fn register_histogram(&self, _: &::metrics::Key, _: &::metrics::Metadata<'_>) -> ::metrics::Histogram {
        ::metrics::Histogram::noop()
    }
}

/// Delivers events whose payload says `"ok"`, refuses `"bad"` ones as
/// invalid, and fails the rest as unreachable.
struct ByPayload;

#[tonic::async_trait]
impl Deliver for ByPayload {
    async fn deliver(&self, event: &OutboxEvent) -> Result<(), Undelivered> {
        match event.payload.get("kind").and_then(serde_json::Value::as_str) {
            Some("ok") => Ok(()),
            Some("bad") => Err(Undelivered::Rejected("receiver: INVALID_ARGUMENT".into())),
            _ => Err("receiver: UNAVAILABLE".into()),
        }
    }
}

// One thread: the recorder is this thread's, and every poll of the round
// (and of the connections it uses) runs here.
#[tokio::test(flavor = "current_thread")]
async fn the_relay_reports_its_outcomes_backlog_age_and_dead_events() -> anyhow::Result<()> {
    let recorded = Recorded::default();
    let _local = ::metrics::set_default_local_recorder(&recorded);
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    for kind in ["ok", "bad", "down", "ok"] {
        jazz_platform::outbox::enqueue(&mut conn, "test.event", kind, serde_json::json!({ "kind": kind })).await?;
    }
    // The one that will still be pending was written two minutes ago.
    diesel::sql_query(
        "UPDATE outbox_events SET created_at = now() - interval '120 seconds' WHERE aggregate_id = 'down'",
    )
    .execute(&mut conn)
    .await?;
    let pool = relay_pool(&db).await?;
    assert_eq!(run_once(ServiceName::Identity, &pool, &ByPayload).await?, 2);

    let counted =
        |outcome: &str| recorded.value(&format!("relay_deliveries_total{{outcome={outcome},service=identity}}"));
    assert_eq!((counted("delivered"), counted("retry"), counted("dead")), (Some(2), Some(1), Some(1)));
    assert_eq!(recorded.gauge("outbox_backlog{service=identity}"), Some(1.0), "the failed one is pending");
    assert_eq!(recorded.gauge("outbox_dead{service=identity}"), Some(1.0));
    let age = recorded.gauge("outbox_oldest_age_seconds{service=identity}").unwrap_or_default();
    assert!((120.0..180.0).contains(&age), "the oldest pending is two minutes old, not {age}");

    // Once nothing is pending the age is 0, not the age of a delivered event.
    diesel::sql_query("UPDATE outbox_events SET status = 'delivered', delivered_at = now() WHERE status = 'pending'")
        .execute(&mut conn)
        .await?;
    run_once(ServiceName::Identity, &pool, &ByPayload).await?;
    assert_eq!(recorded.gauge("outbox_backlog{service=identity}"), Some(0.0));
    assert_eq!(recorded.gauge("outbox_oldest_age_seconds{service=identity}"), Some(0.0));
    assert_eq!(counted("delivered"), Some(2), "nothing was due: no new outcome");
    Ok(())
}

/// Keeps the `traceparent` each delivery's outgoing request carries.
#[derive(Default)]
struct Traced(Mutex<Vec<String>>);

#[tonic::async_trait]
impl Deliver for Traced {
    async fn deliver(&self, _event: &OutboxEvent) -> Result<(), Undelivered> {
        // A producer's delivery sends each request through its Peer.
        let key =
            jazz_platform::PrincipalKey::new(secrecy::SecretString::from(jazz_e2e::TEST_PRINCIPAL_SECRET.to_owned()));
        let request = jazz_platform::peer::Peer::new("receiver", "http://127.0.0.1:1", "test", key).request(());
        let sent = request.metadata().get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or_default();
        self.0.lock().map_err(|_| Undelivered::from("poisoned"))?.push(sent.to_owned());
        Ok(())
    }
}

/// The trace id and span id of a W3C `traceparent` (`00-<trace>-<span>-<flags>`).
fn trace_and_span(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    (parts.get(1).copied().unwrap_or_default().to_owned(), parts.get(2).copied().unwrap_or_default().to_owned())
}

// One thread: the tracing subscriber is this thread's default.
#[tokio::test(flavor = "current_thread")]
async fn an_event_carries_its_schema_version_and_the_trace_that_wrote_it_into_its_delivery() -> anyhow::Result<()> {
    use tracing::Instrument as _;
    let _tracing = tracing::subscriber::set_default(jazz_platform::traces::recording_subscriber());
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    let handler = tracing::info_span!("handler");
    let enqueuing = handler.in_scope(jazz_platform::traces::current_traceparent).unwrap_or_default();
    assert!(enqueuing.starts_with("00-") && enqueuing.len() == 55, "a sampled W3C traceparent: {enqueuing}");
    async { jazz_platform::outbox::enqueue(&mut conn, "test.event", "a", serde_json::json!({})).await }
        .instrument(handler.clone())
        .await?;
    #[derive(diesel::QueryableByName)]
    struct Envelope {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        schema_version: i32,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        trace_context: Option<String>,
    }
    let stored: Envelope =
        diesel::sql_query("SELECT schema_version, trace_context FROM outbox_events").get_result(&mut conn).await?;
    assert_eq!(stored.schema_version, jazz_platform::outbox::SCHEMA_VERSION);
    assert_eq!(stored.trace_context.as_deref(), Some(enqueuing.as_str()), "the enqueuing span's traceparent");

    // The relay runs outside any request; its delivery joins the trace.
    let traced = Traced::default();
    assert_eq!(run_once(ServiceName::Identity, &relay_pool(&db).await?, &traced).await?, 1);
    let sent = traced.0.lock().map(|s| s.clone()).unwrap_or_default();
    let [sent] = sent.as_slice() else { anyhow::bail!("one delivery expected, got {sent:?}") };
    let ((trace, span), (sent_trace, sent_span)) = (trace_and_span(&enqueuing), trace_and_span(sent));
    assert_eq!(sent_trace, trace, "the outgoing call carries the originating trace");
    assert_ne!(sent_span, span, "from the relay's own delivery span, a child of the enqueuing one");

    // Without a trace (a background job), nothing is stored.
    drop(_tracing);
    jazz_platform::outbox::enqueue(&mut conn, "test.event", "b", serde_json::json!({})).await?;
    let untraced = count(
        &mut conn,
        "SELECT count(*) AS n FROM outbox_events WHERE aggregate_id = $1 AND trace_context IS NULL",
        "b",
    )
    .await?;
    assert_eq!(untraced, 1);
    Ok(())
}
