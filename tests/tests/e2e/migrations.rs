//! Migration tests on real PostgreSQL: every data service's history (platform
//! set + service set) applies on an empty database, reverts completely and
//! applies again to the same schema; the `updated_at` trigger and the monthly
//! partition helper do what `docs/database.md` says.

use jazz_e2e::sql::{execute, lines, number};
use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context as _;
use diesel_async::AsyncPgConnection;
use jazz_e2e::migrations_of;
use jazz_platform::ServiceName;
use jazz_platform::testing::TestDatabase;

/// Tables of the platform set, in every service database.
const PLATFORM_TABLES: [&str; 4] = ["audit_logs", "outbox_events", "processed_events", "idempotency_keys"];

/// The service's own tables (docs/database.md, section 1).
fn service_tables(service: ServiceName) -> &'static [&'static str] {
    match service {
        ServiceName::Identity => &[
            "users",
            "user_profiles",
            "accounts",
            "sessions",
            "verification_tokens",
            "feature_flags",
            "sign_in_attempts",
        ],
        ServiceName::Billing => &["plans", "subscriptions", "usage_records", "stripe_events"],
        ServiceName::Content => &["generated_content", "saved_content", "content_likes"],
        ServiceName::Progress => {
            &["progress_records", "practice_sessions", "practice_records", "review_items", "system_metrics"]
        }
        ServiceName::Gateway => &[],
    }
}

/// The diesel versions of the migration directories under
/// `migrations/<set>`: `2025-01-02-000001_identity_init` → `20250102000001`.
fn versions_on_disk(set: &str) -> anyhow::Result<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(set);
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if !entry.path().join("up.sql").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let version = name.split('_').next().unwrap_or_default().replace('-', "");
        versions.push(version);
    }
    versions.sort();
    Ok(versions)
}

/// Everything that makes up the schema, one sorted line per object:
/// columns, indexes, constraints, triggers, functions, partitions.
async fn schema_snapshot(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<String>> {
    let queries = [
        "SELECT concat_ws(' ', 'column', table_name, column_name, data_type, is_nullable, column_default, \
                          is_generated, generation_expression) AS line \
           FROM information_schema.columns WHERE table_schema = 'public'",
        "SELECT concat_ws(' ', 'index', tablename, indexname, indexdef) AS line \
           FROM pg_indexes WHERE schemaname = 'public'",
        "SELECT concat_ws(' ', 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)) AS line \
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
        "SELECT concat_ws(' ', 'trigger', tgrelid::regclass::text, pg_get_triggerdef(oid)) AS line \
           FROM pg_trigger WHERE NOT tgisinternal",
        "SELECT concat_ws(' ', 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid)) AS line \
           FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace",
        "SELECT concat_ws(' ', 'partition', c.oid::regclass::text, i.inhparent::regclass::text, \
                          pg_get_expr(c.relpartbound, c.oid)) AS line \
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
          WHERE c.relnamespace = 'public'::regnamespace",
    ];
    let mut all = Vec::new();
    for query in queries {
        all.extend(lines(conn, query).await?);
    }
    all.sort();
    Ok(all)
}

/// A readable difference of two sorted snapshots.
fn difference(before: &[String], after: &[String]) -> String {
    let before: BTreeSet<&String> = before.iter().collect();
    let after: BTreeSet<&String> = after.iter().collect();
    let mut out = String::new();
    for gone in before.difference(&after) {
        out.push_str(&format!("\n  - {gone}"));
    }
    for new in after.difference(&before) {
        out.push_str(&format!("\n  + {new}"));
    }
    out
}

/// Up, down, up again on an empty database.
async fn round_trip(service: ServiceName) -> anyhow::Result<()> {
    let migrations = migrations_of(service);
    let db = TestDatabase::empty(&format!("migrations_{}", service.as_str())).await?;

    let mut expected = versions_on_disk("platform")?;
    let platform_count = expected.len();
    expected.extend(versions_on_disk(service.as_str())?);
    assert!(platform_count >= 1, "no platform migration directory found");
    assert!(expected.len() > platform_count, "no {} migration directory found", service.as_str());
    // The platform's first migration (the tables every service builds on)
    // sorts before every service version; later ones of either set take the
    // date of their writing and interleave.
    let base_first: bool = {
        let (platform, own) = expected.split_at(platform_count);
        platform.first().is_some_and(|base| own.iter().all(|s| base < s))
    };
    assert!(base_first, "the platform base sorts after a {} version: {expected:?}", service.as_str());
    expected.sort();

    // 1. Everything applies, the platform base first, in version order.
    assert_eq!(migrations.pending(&db.url).await?.len(), expected.len(), "pending on an empty database");
    let applied = migrations.run_pending(&db.url).await?;
    assert_eq!(applied, expected, "{}: versions applied on an empty database", service.as_str());
    assert!(migrations.pending(&db.url).await?.is_empty(), "still pending after run_pending");
    assert!(migrations.run_pending(&db.url).await?.is_empty(), "a second run_pending applied something");

    let mut conn = db.connect().await?;
    let tables: BTreeSet<String> = lines(
        &mut conn,
        "SELECT t.table_name::text AS line FROM information_schema.tables t \
           JOIN pg_class c ON c.relname = t.table_name AND c.relnamespace = 'public'::regnamespace \
          WHERE t.table_schema = 'public' AND NOT c.relispartition",
    )
    .await?
    .into_iter()
    .collect();
    for table in PLATFORM_TABLES.iter().chain(service_tables(service)) {
        assert!(tables.contains(*table), "{}: table {table} missing after run_pending: {tables:?}", service.as_str());
    }

    // Every table with an updated_at column keeps it with the shared trigger.
    let without_trigger = lines(
        &mut conn,
        "SELECT c.table_name::text AS line FROM information_schema.columns c \
          WHERE c.table_schema = 'public' AND c.column_name = 'updated_at' \
            AND NOT EXISTS (SELECT 1 FROM pg_trigger t \
                             WHERE t.tgrelid = format('public.%I', c.table_name)::regclass \
                               AND t.tgfoid = 'jazz_set_updated_at'::regproc \
                               AND t.tgname = 'trg_' || c.table_name || '_set_updated_at')",
    )
    .await?;
    assert!(
        without_trigger.is_empty(),
        "tables with updated_at but no trg_<table>_set_updated_at: {without_trigger:?}"
    );

    let first = schema_snapshot(&mut conn).await?;
    drop(conn);

    // 2. Everything reverts, newest first, and nothing of ours is left.
    let reverted = migrations.revert_all(&db.url).await?;
    let mut newest_first = expected.clone();
    newest_first.reverse();
    assert_eq!(reverted, newest_first, "{}: versions reverted", service.as_str());

    let mut conn = db.connect().await?;
    let relations = lines(
        &mut conn,
        "SELECT relname::text AS line FROM pg_class \
          WHERE relnamespace = 'public'::regnamespace ORDER BY relname",
    )
    .await?;
    assert_eq!(
        relations,
        ["__diesel_schema_migrations", "__diesel_schema_migrations_pkey"],
        "{}: relations left after revert_all",
        service.as_str()
    );
    let functions = lines(
        &mut conn,
        "SELECT p.oid::regprocedure::text AS line FROM pg_proc p \
          WHERE p.pronamespace = 'public'::regnamespace \
             OR p.proname IN ('jazz_set_updated_at', 'jazz_ensure_monthly_partitions', 'jazz_tags_text')",
    )
    .await?;
    assert!(functions.is_empty(), "{}: functions left after revert_all: {functions:?}", service.as_str());
    let types = lines(
        &mut conn,
        "SELECT typname::text AS line FROM pg_type \
          WHERE typnamespace = 'public'::regnamespace AND typname NOT LIKE '%diesel_schema_migrations'",
    )
    .await?;
    assert!(types.is_empty(), "{}: types left after revert_all: {types:?}", service.as_str());
    let recorded = number(&mut conn, "SELECT count(*) AS n FROM __diesel_schema_migrations").await?;
    assert_eq!(recorded, 0, "versions still recorded after revert_all");
    drop(conn);
    assert_eq!(migrations.pending(&db.url).await?.len(), expected.len(), "pending after revert_all");

    // 3. Up again: the same versions, the same schema.
    let reapplied = migrations.run_pending(&db.url).await?;
    assert_eq!(reapplied, expected, "{}: versions applied after revert_all", service.as_str());
    let mut conn = db.connect().await?;
    let second = schema_snapshot(&mut conn).await?;
    drop(conn);
    assert!(
        first == second,
        "{}: schema differs after down and up again:{}",
        service.as_str(),
        difference(&first, &second)
    );
    assert!(first.len() > 20, "suspiciously small schema snapshot: {first:?}");

    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_migrates_up_down_and_up_again() -> anyhow::Result<()> {
    round_trip(ServiceName::Identity).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_migrates_up_down_and_up_again() -> anyhow::Result<()> {
    round_trip(ServiceName::Billing).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_migrates_up_down_and_up_again() -> anyhow::Result<()> {
    round_trip(ServiceName::Content).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_migrates_up_down_and_up_again() -> anyhow::Result<()> {
    round_trip(ServiceName::Progress).await
}

#[test]
fn every_data_service_has_a_round_trip_test() {
    // The four tests above cover ServiceName::DATA_SERVICES; a new data
    // service needs its own.
    assert_eq!(
        ServiceName::DATA_SERVICES,
        [ServiceName::Identity, ServiceName::Billing, ServiceName::Content, ServiceName::Progress]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_at_trigger_moves_updated_at_on_update() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, migrations_of(ServiceName::Identity)).await?;
    let mut conn = db.connect().await?;
    let inserted = execute(
        &mut conn,
        "INSERT INTO users (id, email, first_name, last_name, created_at, updated_at) \
         VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.com', 'Ada', 'Lovelace', \
                 '2000-01-01 00:00:00+00', '2000-01-01 00:00:00+00')",
    )
    .await?;
    assert_eq!(inserted, 1);
    let stamp = "SELECT updated_at::text AS line FROM users WHERE id = '00000000-0000-0000-0000-000000000001'";
    assert_eq!(lines(&mut conn, stamp).await?, ["2000-01-01 00:00:00+00"], "the insert keeps the given updated_at");

    execute(&mut conn, "SET TIME ZONE 'UTC'").await?;
    execute(&mut conn, "UPDATE users SET first_name = 'Augusta' WHERE id = '00000000-0000-0000-0000-000000000001'")
        .await?;
    let moved = number(
        &mut conn,
        "SELECT count(*) AS n FROM users WHERE id = '00000000-0000-0000-0000-000000000001' \
            AND updated_at > now() - interval '5 minutes' AND updated_at <= now() \
            AND created_at = '2000-01-01 00:00:00+00'",
    )
    .await?;
    assert_eq!(moved, 1, "UPDATE did not move updated_at (or moved created_at): {:?}", lines(&mut conn, stamp).await?);

    // The trigger wins over an explicit (stale) value in the UPDATE.
    execute(
        &mut conn,
        "UPDATE users SET last_name = 'King', updated_at = '1999-01-01 00:00:00+00' \
          WHERE id = '00000000-0000-0000-0000-000000000001'",
    )
    .await?;
    let overridden = number(
        &mut conn,
        "SELECT count(*) AS n FROM users WHERE id = '00000000-0000-0000-0000-000000000001' \
            AND updated_at > now() - interval '5 minutes'",
    )
    .await?;
    assert_eq!(overridden, 1, "an explicit updated_at beat the trigger: {:?}", lines(&mut conn, stamp).await?);
    drop(conn);
    db.drop_database().await?;

    // generated_content: a counter bump is not an edit (docs/database.md 5.3).
    let db = TestDatabase::migrated(ServiceName::Content, migrations_of(ServiceName::Content)).await?;
    let mut conn = db.connect().await?;
    execute(
        &mut conn,
        "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data, updated_at) \
         VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', \
                 'JAZZ_LICK', 'Lick', '{}', '{}', '2000-01-01 00:00:00+00')",
    )
    .await?;
    let old = "SELECT count(*) AS n FROM generated_content WHERE updated_at = '2000-01-01 00:00:00+00'";
    execute(&mut conn, "UPDATE generated_content SET likes = likes + 1, views = views + 1").await?;
    assert_eq!(number(&mut conn, old).await?, 1, "a likes/views bump moved updated_at");
    execute(&mut conn, "UPDATE generated_content SET title = 'Better lick'").await?;
    assert_eq!(number(&mut conn, old).await?, 0, "an edit of generated_content did not move updated_at");
    drop(conn);
    db.drop_database().await
}

/// Name of the monthly partition of `parent` `months` months from now (UTC).
fn partition_name_sql(parent: &str, months: i32) -> String {
    format!(
        "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => {months}), \
                        '\"{parent}_y\"YYYY\"m\"MM') AS line"
    )
}

/// Start of the UTC month `months` months from now, as a timestamptz SQL expression.
fn month_start_sql(months: i32) -> String {
    format!("((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => {months})) AT TIME ZONE 'UTC')")
}

async fn one_line(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<String> {
    lines(conn, sql).await?.into_iter().next().ok_or_else(|| anyhow::anyhow!("no row: {sql}"))
}

async fn ensure_partitions(conn: &mut AsyncPgConnection, parent: &str, months_ahead: i32) -> anyhow::Result<i64> {
    number(conn, &format!("SELECT jazz_ensure_monthly_partitions('{parent}', {months_ahead})::bigint AS n")).await
}

/// Which partition of `parent` holds the row with `id`.
async fn partition_of(conn: &mut AsyncPgConnection, parent: &str, id: &str) -> anyhow::Result<String> {
    one_line(conn, &format!("SELECT tableoid::regclass::text AS line FROM {parent} WHERE id = '{id}'")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monthly_partitions_are_created_idempotently_and_rows_find_their_month() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, migrations_of(ServiceName::Identity)).await?;
    let mut conn = db.connect().await?;
    // Bounds are UTC months whatever the session's time zone.
    execute(&mut conn, "SET TIME ZONE 'Pacific/Kiritimati'").await?;

    // The template may have been migrated in an earlier month: the first
    // call may create some; the second finds them all.
    let first = ensure_partitions(&mut conn, "audit_logs", 3).await?;
    assert!((0..=4).contains(&first), "first call created {first} partitions");
    assert_eq!(ensure_partitions(&mut conn, "audit_logs", 3).await?, 0, "second call is not a no-op");

    let children: BTreeSet<String> = lines(
        &mut conn,
        "SELECT c.relname::text AS line FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
          WHERE i.inhparent = 'audit_logs'::regclass",
    )
    .await?
    .into_iter()
    .collect();
    assert!(children.contains("audit_logs_default"), "no default partition: {children:?}");
    for months in 0..=3 {
        let name = one_line(&mut conn, &partition_name_sql("audit_logs", months)).await?;
        assert!(children.contains(&name), "partition {name} missing: {children:?}");
    }
    let default_bound = one_line(
        &mut conn,
        "SELECT pg_get_expr(relpartbound, oid) AS line FROM pg_class WHERE relname = 'audit_logs_default'",
    )
    .await?;
    assert_eq!(default_bound, "DEFAULT");

    // Rows land in their UTC month, on both sides of a month boundary.
    let insert = |id: &str, at: &str| {
        format!(
            "INSERT INTO audit_logs (id, action, entity, created_at) \
             VALUES ('{id}', 'TEST', 'partition', {at})"
        )
    };
    let now_id = "00000000-0000-0000-0000-00000000000a";
    let last_us_id = "00000000-0000-0000-0000-00000000000b";
    let next_id = "00000000-0000-0000-0000-00000000000c";
    let past_id = "00000000-0000-0000-0000-00000000000d";
    let later_id = "00000000-0000-0000-0000-00000000000e";
    execute(&mut conn, &insert(now_id, "now()")).await?;
    execute(&mut conn, &insert(last_us_id, &format!("{} - interval '1 microsecond'", month_start_sql(1)))).await?;
    execute(&mut conn, &insert(next_id, &month_start_sql(1))).await?;
    let this_month = one_line(&mut conn, &partition_name_sql("audit_logs", 0)).await?;
    let next_month = one_line(&mut conn, &partition_name_sql("audit_logs", 1)).await?;
    assert_eq!(partition_of(&mut conn, "audit_logs", now_id).await?, this_month);
    assert_eq!(partition_of(&mut conn, "audit_logs", last_us_id).await?, this_month);
    assert_eq!(partition_of(&mut conn, "audit_logs", next_id).await?, next_month);

    // A row far in the past has no month partition: the default takes it,
    // and it reads through the parent.
    execute(&mut conn, &insert(past_id, "'2001-02-03 04:05:06+00'")).await?;
    assert_eq!(partition_of(&mut conn, "audit_logs", past_id).await?, "audit_logs_default");
    let past = lines(
        &mut conn,
        "SELECT action || ' ' || entity AS line FROM audit_logs \
          WHERE created_at < '2002-01-01 00:00:00+00'",
    )
    .await?;
    assert_eq!(past, ["TEST partition"], "the past row is not readable through audit_logs");

    // A row for a month without a partition yet waits in the default and
    // moves to its partition when that is created; the past row stays.
    execute(&mut conn, &insert(later_id, &format!("{} + interval '1 hour'", month_start_sql(4)))).await?;
    assert_eq!(partition_of(&mut conn, "audit_logs", later_id).await?, "audit_logs_default");
    assert_eq!(ensure_partitions(&mut conn, "audit_logs", 4).await?, 1, "months_ahead 4 should create one");
    let later_month = one_line(&mut conn, &partition_name_sql("audit_logs", 4)).await?;
    assert_eq!(partition_of(&mut conn, "audit_logs", later_id).await?, later_month);
    assert_eq!(partition_of(&mut conn, "audit_logs", past_id).await?, "audit_logs_default");
    assert_eq!(number(&mut conn, "SELECT count(*) AS n FROM audit_logs").await?, 5, "rows lost or duplicated");
    // The new partition got the parent's indexes and checks.
    let indexes =
        number(&mut conn, &format!("SELECT count(*) AS n FROM pg_indexes WHERE tablename = '{later_month}'")).await?;
    assert_eq!(indexes, 5, "{later_month} should have the pkey and the four indexes of audit_logs");

    // Bad arguments are refused.
    assert!(ensure_partitions(&mut conn, "audit_logs", -1).await.is_err(), "months_ahead -1 accepted");
    assert!(ensure_partitions(&mut conn, "audit_logs", 121).await.is_err(), "months_ahead 121 accepted");
    assert!(ensure_partitions(&mut conn, "users", 3).await.is_err(), "a plain table accepted");
    drop(conn);
    db.drop_database().await?;

    // system_metrics in progress: the same helper, idempotent too.
    let db = TestDatabase::migrated(ServiceName::Progress, migrations_of(ServiceName::Progress)).await?;
    let mut conn = db.connect().await?;
    ensure_partitions(&mut conn, "system_metrics", 3).await?;
    assert_eq!(ensure_partitions(&mut conn, "system_metrics", 3).await?, 0);
    for months in 0..=3 {
        let name = one_line(&mut conn, &partition_name_sql("system_metrics", months)).await?;
        let attached = number(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                  WHERE i.inhparent = 'system_metrics'::regclass AND c.relname = '{name}'"
            ),
        )
        .await?;
        assert_eq!(attached, 1, "partition {name} of system_metrics missing");
    }
    execute(
        &mut conn,
        "INSERT INTO system_metrics (id, metric_name, value, recorded_at) \
         VALUES ('00000000-0000-0000-0000-000000000001', 'dau', 1, '1999-12-31 23:59:59+00'), \
                ('00000000-0000-0000-0000-000000000002', 'dau', 2, now())",
    )
    .await?;
    assert_eq!(
        partition_of(&mut conn, "system_metrics", "00000000-0000-0000-0000-000000000001").await?,
        "system_metrics_default"
    );
    assert_eq!(
        partition_of(&mut conn, "system_metrics", "00000000-0000-0000-0000-000000000002").await?,
        one_line(&mut conn, &partition_name_sql("system_metrics", 0)).await?
    );
    drop(conn);
    db.drop_database().await
}
