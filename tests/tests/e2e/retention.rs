//! Retention of the platform tables: delivered outbox events and replay
//! rows go after their windows; pending and dead events, and younger rows,
//! stay. (Content's purge of soft-deleted items is in `erasure.rs`.)

use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::ServiceName;
use jazz_platform::retention::{Pruned, Retention, prune};
use jazz_platform::testing::TestDatabase;

#[derive(diesel::QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn number(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    let row: Number = diesel::sql_query(sql).get_result(conn).await?;
    Ok(row.n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_events_and_replay_rows_go_after_their_windows_and_nothing_else_does() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    // 2 500 delivered eight days ago (more than two batches), one delivered
    // an hour ago, and pending and dead ones written a month ago.
    diesel::sql_query(
        "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status, attempts, created_at, delivered_at) \
         SELECT gen_random_uuid(), 'test.event', 'old', '{}', 'delivered', 1, now() - interval '8 days', \
                now() - interval '8 days' FROM generate_series(1, 2500)",
    )
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status, attempts, created_at, delivered_at) VALUES \
           (gen_random_uuid(), 'test.event', 'recent', '{}', 'delivered', 1, now() - interval '1 hour', now() - interval '1 hour'), \
           (gen_random_uuid(), 'test.event', 'pending', '{}', 'pending', 9, now() - interval '30 days', NULL), \
           (gen_random_uuid(), 'test.event', 'dead', '{}', 'dead', 1, now() - interval '30 days', NULL)",
    )
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO idempotency_keys (scope, key, status, created_at) VALUES \
           ('billing.StartCheckout:a', 'old', 'in_progress', now() - interval '25 hours'), \
           ('stripe:create_customer:a', 'old', 'in_progress', now() - interval '3 days'), \
           ('billing.StartCheckout:a', 'recent', 'in_progress', now() - interval '1 hour')",
    )
    .execute(&mut conn)
    .await?;
    let pool = jazz_platform::db::pool(&jazz_platform::config::DatabaseConfig {
        url: secrecy::SecretString::from(db.url.clone()),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        plan_cache_mode: jazz_platform::config::PlanCacheMode::default(),
    })?;

    let pruned = prune(&pool, &Retention::default()).await?;
    assert_eq!(pruned, Pruned { delivered_events: 2500, replays: 2 });
    let left = number(&mut conn, "SELECT count(*) AS n FROM outbox_events WHERE aggregate_id <> 'old'").await?;
    assert_eq!(
        (number(&mut conn, "SELECT count(*) AS n FROM outbox_events").await?, left),
        (3, 3),
        "the recent delivered, the pending and the dead event stay"
    );
    assert_eq!(number(&mut conn, "SELECT count(*) AS n FROM idempotency_keys WHERE key = 'recent'").await?, 1);
    assert_eq!(number(&mut conn, "SELECT count(*) AS n FROM idempotency_keys").await?, 1);

    // Shorter windows reach the younger rows; a second run finds nothing more.
    let short = Retention {
        delivered_events: Duration::from_secs(60),
        replays: Duration::from_secs(60),
        ..Retention::default()
    };
    assert_eq!(prune(&pool, &short).await?, Pruned { delivered_events: 1, replays: 1 });
    assert_eq!(prune(&pool, &short).await?, Pruned::default());
    assert_eq!(number(&mut conn, "SELECT count(*) AS n FROM outbox_events WHERE status <> 'delivered'").await?, 2);
    Ok(())
}
