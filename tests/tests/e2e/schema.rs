//! Schema tests on real PostgreSQL, against the seed design
//! (`shared/seed/database-schema-design.md`) and `docs/database.md`:
//! every seed index exists (checked by its columns), every seed table
//! accepts a valid row and refuses broken ones with the right SQLSTATE, and
//! the hot queries of seed section 3.1 use their indexes.

use jazz_e2e::sql::{execute, lines, number};
use std::fmt::Write as _;

use anyhow::Context as _;
use diesel::QueryableByName;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_e2e::migrations_of;
use jazz_platform::ServiceName;
use jazz_platform::testing::TestDatabase;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

async fn migrated(service: ServiceName) -> anyhow::Result<(TestDatabase, AsyncPgConnection)> {
    let db = TestDatabase::migrated(service, migrations_of(service)).await?;
    let conn = db.connect().await?;
    Ok((db, conn))
}

/// A fixed uuid, readable in failures: `id(7)` = `00000000-0000-0000-0000-000000000007`.
fn id(n: u32) -> String {
    format!("00000000-0000-0000-0000-{n:012}")
}

/// Inserts exactly one row, or fails naming the statement.
async fn accepted(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<()> {
    let rows = execute(conn, sql).await?;
    anyhow::ensure!(rows == 1, "{rows} rows written by: {sql}");
    Ok(())
}

/// How a statement must be refused. Constraint names ending in `*` match
/// by prefix (a partition's index is named after the partition).
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// SQLSTATE 23514, by constraint name.
    Check(&'static str),
    /// SQLSTATE 23505, by constraint (index) name.
    Unique(&'static str),
    /// SQLSTATE 23503, by constraint name.
    ForeignKey(&'static str),
    /// SQLSTATE 23502, by column name.
    NotNull(&'static str),
}

fn name_matches(expected: &str, got: Option<&str>) -> bool {
    match (expected.strip_suffix('*'), got) {
        (Some(prefix), Some(got)) => got.starts_with(prefix),
        (None, Some(got)) => got == expected,
        (_, None) => false,
    }
}

async fn refused(conn: &mut AsyncPgConnection, refusal: Refusal, sql: &str) -> anyhow::Result<()> {
    let (kind, name) = match refusal {
        Refusal::Check(name) => (DatabaseErrorKind::CheckViolation, name),
        Refusal::Unique(name) => (DatabaseErrorKind::UniqueViolation, name),
        Refusal::ForeignKey(name) => (DatabaseErrorKind::ForeignKeyViolation, name),
        Refusal::NotNull(column) => (DatabaseErrorKind::NotNullViolation, column),
    };
    match diesel::sql_query(sql).execute(conn).await {
        Ok(rows) => anyhow::bail!("expected {refusal:?}, but {rows} row(s) were written by: {sql}"),
        Err(DieselError::DatabaseError(got, info)) => {
            let got_name = match refusal {
                Refusal::NotNull(_) => info.column_name(),
                _ => info.constraint_name(),
            };
            anyhow::ensure!(
                got == kind && name_matches(name, got_name),
                "expected {refusal:?}, got {got:?} on {got_name:?} ({}) from: {sql}",
                info.message()
            );
            Ok(())
        }
        Err(other) => anyhow::bail!("expected {refusal:?}, got {other} from: {sql}"),
    }
}

use Refusal::{Check, ForeignKey, NotNull, Unique};

// ---------------------------------------------------------------------------
// a. indexes of the seed, by columns
// ---------------------------------------------------------------------------

#[derive(QueryableByName, Debug)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Text)]
    method: String,
    /// Key columns in order, `,`-separated, ` DESC` where descending.
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Nullable<Text>)]
    predicate: Option<String>,
}

/// Every index on a table (partitioned parents included, partitions not).
async fn indexes(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<IndexRow>> {
    let sql = "SELECT t.relname::text AS table_name, i.relname::text AS index_name, x.indisunique AS is_unique, \
                      am.amname::text AS method, \
                      (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, true) \
                                         || CASE WHEN x.indoption[k - 1] & 1 = 1 THEN ' DESC' ELSE '' END, \
                                         ',' ORDER BY k) \
                         FROM generate_series(1, x.indnkeyatts) AS k) AS columns, \
                      pg_get_expr(x.indpred, x.indrelid) AS predicate \
                 FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_class t ON t.oid = x.indrelid \
                 JOIN pg_am am ON am.oid = i.relam \
                WHERE t.relnamespace = 'public'::regnamespace AND NOT t.relispartition";
    Ok(diesel::sql_query(sql).load(conn).await?)
}

/// A seed index: its table and key columns; unique if the seed says so.
struct Wanted {
    table: &'static str,
    columns: &'static str,
    unique: bool,
    /// The seed's name (section 3.1), where it gives one.
    name: Option<&'static str>,
    method: &'static str,
    /// More key columns may follow (e.g. `id DESC` for keyset pages).
    prefix: bool,
}

fn index(table: &'static str, columns: &'static str) -> Wanted {
    Wanted { table, columns, unique: false, name: None, method: "btree", prefix: false }
}

impl Wanted {
    fn unique(self) -> Self {
        Self { unique: true, ..self }
    }
    fn named(self, name: &'static str) -> Self {
        Self { name: Some(name), ..self }
    }
    fn gin(self) -> Self {
        Self { method: "gin", ..self }
    }
    fn then_more(self) -> Self {
        Self { prefix: true, ..self }
    }

    fn served_by(&self, row: &IndexRow) -> bool {
        let columns_match = row.columns == self.columns
            || (self.prefix && row.columns.strip_prefix(self.columns).is_some_and(|rest| rest.starts_with(',')));
        row.table_name == self.table
            && columns_match
            && row.method == self.method
            && row.predicate.is_none()
            && (!self.unique || row.is_unique)
            && self.name.is_none_or(|name| row.index_name == name)
    }
}

fn seed_indexes(service: ServiceName) -> Vec<Wanted> {
    let mut wanted = match service {
        ServiceName::Identity => vec![
            index("users", "email").unique().named("idx_users_email"),
            index("users", "username").unique(),
            index("users", "is_active,deleted_at").named("idx_users_active"),
            index("user_profiles", "user_id").unique(),
            index("user_profiles", "skill_level"),
            index("accounts", "provider,provider_account_id").unique(),
            index("sessions", "session_token").unique(),
            index("sessions", "expires"),
            index("verification_tokens", "token").unique(),
            index("verification_tokens", "identifier,token").unique(),
            index("feature_flags", "name").unique(),
        ],
        ServiceName::Billing => vec![
            index("subscriptions", "stripe_customer_id").unique(),
            index("subscriptions", "stripe_subscription_id").unique(),
            index("subscriptions", "status"),
            index("subscriptions", "tier"),
            index("subscriptions", "current_period_end"),
            index("subscriptions", "status,current_period_end").named("idx_subscription_status"),
            index("usage_records", "subscription_id,feature"),
            index("usage_records", "recorded_at"),
        ],
        ServiceName::Content => vec![
            index("generated_content", "type"),
            index("generated_content", "difficulty"),
            index("generated_content", "key"),
            index("generated_content", "style"),
            index("generated_content", "is_public,deleted_at").named("idx_content_public"),
            index("generated_content", "user_id,created_at DESC").named("idx_content_user_date").then_more(),
            index("generated_content", "search_vector").gin().named("idx_content_search"),
            index("saved_content", "user_id,generated_content_id").unique(),
            index("saved_content", "user_id,collection_name"),
            index("saved_content", "is_favorite"),
        ],
        ServiceName::Progress => vec![
            index("progress_records", "user_id,skill_area").named("idx_progress_user_skill"),
            index("progress_records", "user_id,recorded_at DESC").named("idx_progress_date"),
            index("progress_records", "difficulty_level"),
            index("practice_sessions", "user_id,started_at"),
            index("practice_records", "practice_session_id"),
            index("practice_records", "generated_content_id"),
            index("system_metrics", "metric_name,recorded_at"),
        ],
        ServiceName::Gateway => vec![],
    };
    wanted.extend([
        index("audit_logs", "user_id"),
        index("audit_logs", "action"),
        index("audit_logs", "entity"),
        index("audit_logs", "created_at"),
    ]);
    wanted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_index_exists_by_columns() -> anyhow::Result<()> {
    let mut missing = String::new();
    for service in ServiceName::DATA_SERVICES {
        let (db, mut conn) = migrated(service).await?;
        let found = indexes(&mut conn).await?;
        for wanted in seed_indexes(service) {
            if !found.iter().any(|row| wanted.served_by(row)) {
                let on_table: Vec<String> = found
                    .iter()
                    .filter(|row| row.table_name == wanted.table)
                    .map(|row| {
                        format!(
                            "{}({}){}{}",
                            row.index_name,
                            row.columns,
                            if row.is_unique { " unique" } else { "" },
                            row.predicate.as_deref().map(|p| format!(" WHERE {p}")).unwrap_or_default()
                        )
                    })
                    .collect();
                let _ = write!(
                    missing,
                    "\n  {}: {}({}){}{} {} — has {on_table:?}",
                    service.as_str(),
                    wanted.table,
                    wanted.columns,
                    if wanted.unique { " unique" } else { "" },
                    wanted.name.map(|n| format!(" named {n}")).unwrap_or_default(),
                    wanted.method,
                );
            }
        }
        drop(conn);
        db.drop_database().await?;
    }
    assert!(missing.is_empty(), "seed indexes missing:{missing}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_foreign_key_is_indexed() -> anyhow::Result<()> {
    // docs/database.md 3: "every foreign key column is indexed" (deletes
    // of the parent, cascades).
    for service in ServiceName::DATA_SERVICES {
        let (db, mut conn) = migrated(service).await?;
        let unindexed = lines(
            &mut conn,
            "SELECT conrelid::regclass::text || '.' || conname AS line FROM pg_constraint c \
              WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
                AND NOT EXISTS ( \
                    SELECT 1 FROM pg_index x \
                     WHERE x.indrelid = c.conrelid AND x.indpred IS NULL \
                       AND x.indnkeyatts >= cardinality(c.conkey) \
                       AND (SELECT array_agg(x.indkey[k] ORDER BY k) \
                              FROM generate_series(0, cardinality(c.conkey) - 1) AS k) = c.conkey)",
        )
        .await?;
        assert!(unindexed.is_empty(), "{}: foreign keys without an index: {unindexed:?}", service.as_str());
        let foreign_keys = number(
            &mut conn,
            "SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
        )
        .await?;
        let expected = match service {
            ServiceName::Identity => 5, // profiles, accounts, sessions, verification tokens, tiers → users
            ServiceName::Billing => 1,  // usage_records → subscriptions
            ServiceName::Content => 2,  // saved_content, content_likes → generated_content
            _ => 2,                     // practice_records → practice_sessions, performance_results → practice_records
        };
        assert_eq!(foreign_keys, expected, "{}: foreign keys", service.as_str());
        drop(conn);
        db.drop_database().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_logs_and_system_metrics_are_range_partitioned() -> anyhow::Result<()> {
    for service in ServiceName::DATA_SERVICES {
        let (db, mut conn) = migrated(service).await?;
        let mut wanted = vec![("audit_logs", "RANGE (created_at)")];
        if service == ServiceName::Progress {
            wanted.push(("system_metrics", "RANGE (recorded_at)"));
        }
        for (table, key) in wanted {
            let found = lines(
                &mut conn,
                &format!(
                    "SELECT pt.partstrat::text || ' ' || pg_get_partkeydef(pt.partrelid) AS line \
                       FROM pg_partitioned_table pt WHERE pt.partrelid = '{table}'::regclass"
                ),
            )
            .await?;
            assert_eq!(found, [format!("r {key}")], "{}: {table} partitioning", service.as_str());
            let default_partitions = number(
                &mut conn,
                &format!(
                    "SELECT count(*) AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                      WHERE i.inhparent = '{table}'::regclass AND c.relname = '{table}_default' \
                        AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
                ),
            )
            .await?;
            assert_eq!(default_partitions, 1, "{}: {table}_default", service.as_str());
        }
        drop(conn);
        db.drop_database().await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// b. every table accepts a valid row and refuses broken ones
// ---------------------------------------------------------------------------

/// The platform tables, present in every service database.
async fn platform_constraints(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let (a1, a2) = (id(901), id(902));
    accepted(
        conn,
        &format!(
            "INSERT INTO audit_logs (id, user_id, action, entity, entity_id, old_data, new_data, ip_address, user_agent) \
             VALUES ('{a1}', '{}', 'UPDATE', 'users', 'u-1', '{{\"a\":1}}', '{{\"a\":2}}', '127.0.0.1', 'test')",
            id(1)
        ),
    )
    .await?;
    // Audit rows need only action and entity.
    accepted(conn, &format!("INSERT INTO audit_logs (id, action, entity) VALUES ('{a2}', 'LOGIN', 'sessions')"))
        .await?;
    refused(
        conn,
        Check("audit_logs_action_check"),
        &format!("INSERT INTO audit_logs (id, action, entity) VALUES ('{}', '', 'users')", id(903)),
    )
    .await?;
    refused(
        conn,
        Check("audit_logs_entity_check"),
        &format!("INSERT INTO audit_logs (id, action, entity) VALUES ('{}', 'CREATE', repeat('e', 101))", id(903)),
    )
    .await?;
    refused(
        conn,
        Check("audit_logs_entity_id_check"),
        &format!(
            "INSERT INTO audit_logs (id, action, entity, entity_id) VALUES ('{}', 'CREATE', 'users', repeat('i', 201))",
            id(903)
        ),
    )
    .await?;
    refused(conn, NotNull("action"), &format!("INSERT INTO audit_logs (id, entity) VALUES ('{}', 'users')", id(903)))
        .await?;
    refused(
        conn,
        Unique("audit_logs_*"),
        &format!(
            "INSERT INTO audit_logs (id, action, entity, created_at) \
             SELECT id, action, entity, created_at FROM audit_logs WHERE id = '{a2}'"
        ),
    )
    .await?;

    accepted(
        conn,
        &format!(
            "INSERT INTO outbox_events (id, event_type, aggregate_id, payload) VALUES ('{}', 'content.deleted', 'c-1', '{{}}')",
            id(911)
        ),
    )
    .await?;
    refused(
        conn,
        Check("outbox_events_delivered_check"),
        &format!(
            "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status) \
             VALUES ('{}', 'content.deleted', 'c-1', '{{}}', 'delivered')",
            id(912)
        ),
    )
    .await?;
    refused(
        conn,
        Check("outbox_events_status_check"),
        &format!(
            "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status) \
             VALUES ('{}', 'content.deleted', 'c-1', '{{}}', 'sent')",
            id(912)
        ),
    )
    .await?;
    refused(
        conn,
        Check("outbox_events_attempts_check"),
        &format!(
            "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, attempts) \
             VALUES ('{}', 'content.deleted', 'c-1', '{{}}', -1)",
            id(912)
        ),
    )
    .await?;

    accepted(
        conn,
        &format!("INSERT INTO processed_events (event_id, event_type) VALUES ('{}', 'user.deleted')", id(921)),
    )
    .await?;
    refused(
        conn,
        Unique("processed_events_pkey"),
        &format!("INSERT INTO processed_events (event_id, event_type) VALUES ('{}', 'user.deleted')", id(921)),
    )
    .await?;

    accepted(
        conn,
        "INSERT INTO idempotency_keys (scope, key, response) VALUES ('content.Create:u1', 'r-1', '\\x0a01')",
    )
    .await?;
    accepted(
        conn,
        "INSERT INTO idempotency_keys (scope, key, status) VALUES ('stripe:create:s1', 'r-1', 'in_progress')",
    )
    .await?;
    refused(
        conn,
        Unique("idempotency_keys_pkey"),
        "INSERT INTO idempotency_keys (scope, key, response) VALUES ('content.Create:u1', 'r-1', '\\x0a02')",
    )
    .await?;
    refused(
        conn,
        Check("idempotency_keys_completed_response_check"),
        "INSERT INTO idempotency_keys (scope, key) VALUES ('content.Create:u1', 'r-2')",
    )
    .await?;
    refused(
        conn,
        Check("idempotency_keys_request_hash_check"),
        "INSERT INTO idempotency_keys (scope, key, response, request_hash) \
         VALUES ('content.Create:u1', 'r-3', '\\x00', decode(repeat('ab', 65), 'hex'))",
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_tables_accept_valid_rows_and_refuse_broken_ones() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Identity).await?;
    let conn = &mut conn;
    let (u1, u2) = (id(1), id(2));
    let missing = id(999);

    // users
    accepted(
        conn,
        &format!(
            "INSERT INTO users (id, email, first_name, last_name, username, password_hash) \
             VALUES ('{u1}', 'ada@example.com', 'Ada', 'Lovelace', 'ada', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA')"
        ),
    )
    .await?;
    accepted(
        conn,
        &format!("INSERT INTO users (id, email, first_name, last_name) VALUES ('{u2}', 'bob@example.com', 'Bob', 'B')"),
    )
    .await?;
    let user = |email: &str, username: &str| {
        format!(
            "INSERT INTO users (id, email, first_name, last_name, username) VALUES ('{}', '{email}', 'X', 'Y', {username})",
            id(3)
        )
    };
    refused(conn, Unique("idx_users_email"), &user("ada@example.com", "NULL")).await?;
    refused(conn, Unique("idx_users_username"), &user("carol@example.com", "'ada'")).await?;
    refused(conn, Check("users_email_check"), &user("Carol@Example.com", "NULL")).await?;
    refused(conn, Check("users_email_check"), &user("@example.com", "NULL")).await?;
    refused(conn, Check("users_email_check"), &user("carol.example.com", "NULL")).await?;
    refused(conn, Check("users_username_check"), &user("carol@example.com", "repeat('u', 65)")).await?;
    refused(
        conn,
        Unique("users_pkey"),
        &format!("INSERT INTO users (id, email, first_name, last_name) VALUES ('{u1}', 'dave@example.com', 'D', 'D')"),
    )
    .await?;
    refused(
        conn,
        Check("users_password_hash_check"),
        &format!(
            "INSERT INTO users (id, email, first_name, last_name, password_hash) \
             VALUES ('{}', 'carol@example.com', 'C', 'C', 'hunter2')",
            id(3)
        ),
    )
    .await?;
    refused(
        conn,
        Check("users_first_name_check"),
        &format!(
            "INSERT INTO users (id, email, first_name, last_name) VALUES ('{}', 'carol@example.com', '', 'C')",
            id(3)
        ),
    )
    .await?;
    refused(
        conn,
        NotNull("last_name"),
        &format!("INSERT INTO users (id, email, first_name) VALUES ('{}', 'carol@example.com', 'C')", id(3)),
    )
    .await?;
    // Uniqueness holds across soft-deleted users (docs/database.md 5.1).
    execute(conn, &format!("UPDATE users SET deleted_at = now() WHERE id = '{u2}'")).await?;
    refused(conn, Unique("idx_users_email"), &user("bob@example.com", "NULL")).await?;

    // user_profiles
    accepted(
        conn,
        &format!(
            "INSERT INTO user_profiles (id, user_id, skill_level, musical_background) \
             VALUES ('{}', '{u1}', 'ADVANCED', '{{\"instruments\": [\"piano\"]}}')",
            id(11)
        ),
    )
    .await?;
    let profile = |user: &str, level: &str| {
        format!("INSERT INTO user_profiles (id, user_id, skill_level) VALUES ('{}', '{user}', '{level}')", id(12))
    };
    refused(conn, Check("user_profiles_skill_level_check"), &profile(&u2, "EXPERT")).await?;
    refused(conn, Unique("idx_user_profiles_user_id"), &profile(&u1, "BEGINNER")).await?;
    refused(conn, ForeignKey("user_profiles_user_id_fkey"), &profile(&missing, "BEGINNER")).await?;
    refused(
        conn,
        Check("user_profiles_preferences_check"),
        &format!(
            "INSERT INTO user_profiles (id, user_id, preferences) \
             VALUES ('{}', '{u2}', jsonb_build_object('x', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 2100) i)))",
            id(12)
        ),
    )
    .await?;

    // accounts
    let account = |n: u32, user: &str, provider: &str, account_id: &str| {
        format!(
            "INSERT INTO accounts (id, user_id, type, provider, provider_account_id, expires_at) \
             VALUES ('{}', '{user}', 'oauth', '{provider}', '{account_id}', 4102444800)",
            id(n)
        )
    };
    accepted(conn, &account(21, &u1, "google", "g-123")).await?;
    accepted(conn, &account(22, &u2, "github", "g-123")).await?;
    refused(conn, Unique("idx_accounts_provider_provider_account_id"), &account(23, &u2, "google", "g-123")).await?;
    refused(conn, ForeignKey("accounts_user_id_fkey"), &account(23, &missing, "google", "g-456")).await?;
    refused(conn, Check("accounts_provider_check"), &account(23, &u2, "", "g-456")).await?;

    // sessions
    let session = |n: u32, token: &str, user: &str| {
        format!(
            "INSERT INTO sessions (id, session_token, user_id, expires) \
             VALUES ('{}', {token}, '{user}', now() + interval '1 day')",
            id(n)
        )
    };
    accepted(conn, &session(31, "repeat('a', 64)", &u1)).await?;
    refused(conn, Unique("idx_sessions_session_token"), &session(32, "repeat('a', 64)", &u2)).await?;
    refused(conn, Check("sessions_session_token_check"), &session(32, "repeat('A', 64)", &u2)).await?;
    refused(conn, Check("sessions_session_token_check"), &session(32, "repeat('a', 63)", &u2)).await?;
    refused(conn, ForeignKey("sessions_user_id_fkey"), &session(32, "repeat('b', 64)", &missing)).await?;
    refused(
        conn,
        NotNull("expires"),
        &format!("INSERT INTO sessions (id, session_token, user_id) VALUES ('{}', repeat('c', 64), '{u1}')", id(32)),
    )
    .await?;

    // verification_tokens
    let token = |n: u32, identifier: &str, token: &str, purpose: &str, user: &str| {
        format!(
            "INSERT INTO verification_tokens (id, identifier, token, expires, purpose, user_id) \
             VALUES ('{}', '{identifier}', {token}, now() + interval '1 hour', '{purpose}', {user})",
            id(n)
        )
    };
    accepted(conn, &token(41, "ada@example.com", "repeat('b', 64)", "password_reset", &format!("'{u1}'"))).await?;
    accepted(conn, &token(42, "new@example.com", "repeat('c', 64)", "magic_link", "NULL")).await?;
    refused(
        conn,
        Unique("idx_verification_tokens_token"),
        &token(43, "bob@example.com", "repeat('b', 64)", "magic_link", "NULL"),
    )
    .await?;
    refused(
        conn,
        Check("verification_tokens_purpose_check"),
        &token(43, "bob@example.com", "repeat('d', 64)", "login", "NULL"),
    )
    .await?;
    refused(
        conn,
        Check("verification_tokens_token_check"),
        &token(43, "bob@example.com", "'123456'", "magic_link", "NULL"),
    )
    .await?;
    refused(
        conn,
        ForeignKey("verification_tokens_user_id_fkey"),
        &token(43, "bob@example.com", "repeat('d', 64)", "magic_link", &format!("'{missing}'")),
    )
    .await?;
    refused(
        conn,
        Check("verification_tokens_attempts_check"),
        &format!(
            "INSERT INTO verification_tokens (id, identifier, token, expires, purpose, attempts) \
             VALUES ('{}', 'bob@example.com', repeat('d', 64), now(), 'magic_link', -1)",
            id(43)
        ),
    )
    .await?;

    // feature_flags
    let flag = |name: &str, rollout: &str| {
        format!("INSERT INTO feature_flags (id, name, rollout_percentage) VALUES ('{}', '{name}', {rollout})", id(52))
    };
    accepted(
        conn,
        &format!(
            "INSERT INTO feature_flags (id, name, is_enabled, rollout_percentage) VALUES ('{}', 'ai_generation_v2', true, 12.5)",
            id(51)
        ),
    )
    .await?;
    refused(conn, Check("feature_flags_rollout_percentage_check"), &flag("advanced_analytics", "101")).await?;
    refused(conn, Check("feature_flags_rollout_percentage_check"), &flag("advanced_analytics", "-0.5")).await?;
    refused(conn, Check("feature_flags_rollout_percentage_check"), &flag("advanced_analytics", "'NaN'")).await?;
    refused(conn, Unique("idx_feature_flags_name"), &flag("ai_generation_v2", "0")).await?;
    refused(conn, Check("feature_flags_name_check"), &flag("", "0")).await?;

    // sign_in_attempts (not in the seed)
    accepted(
        conn,
        &format!("INSERT INTO sign_in_attempts (id, email, succeeded) VALUES ('{}', 'ada@example.com', false)", id(61)),
    )
    .await?;
    refused(
        conn,
        Check("sign_in_attempts_subject_check"),
        &format!("INSERT INTO sign_in_attempts (id, succeeded) VALUES ('{}', false)", id(62)),
    )
    .await?;

    platform_constraints(conn).await?;

    // Deleting a user cascades to what hangs off it (seed onDelete: Cascade).
    execute(conn, &format!("DELETE FROM users WHERE id = '{u1}'")).await?;
    for table in ["user_profiles", "accounts", "sessions", "verification_tokens"] {
        let left = number(conn, &format!("SELECT count(*) AS n FROM {table} WHERE user_id = '{u1}'")).await?;
        assert_eq!(left, 0, "{table} rows of a deleted user survived");
    }
    let unowned = number(conn, "SELECT count(*) AS n FROM verification_tokens WHERE user_id IS NULL").await?;
    assert_eq!(unowned, 1, "a token without a user was deleted");

    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_tables_accept_valid_rows_and_refuse_broken_ones() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Billing).await?;
    let conn = &mut conn;

    // plans (not in the seed)
    let plan = |tier: &str, price_id: &str, amount: &str, currency: &str, interval: &str, entitlements: &str| {
        format!(
            "INSERT INTO plans (tier, name, stripe_price_id, price_amount_minor, currency, billing_interval, entitlements) \
             VALUES ('{tier}', 'Plan', {price_id}, {amount}, '{currency}', '{interval}', '{entitlements}')"
        )
    };
    accepted(conn, &plan("FREE", "NULL", "0", "USD", "month", r#"{"ai_generation": 10}"#)).await?;
    accepted(conn, &plan("PRO", "'price_pro'", "999", "USD", "month", r#"{"ai_generation": null}"#)).await?;
    refused(conn, Unique("plans_pkey"), &plan("FREE", "NULL", "0", "USD", "month", "{}")).await?;
    refused(conn, Check("plans_tier_check"), &plan("GOLD", "NULL", "0", "USD", "month", "{}")).await?;
    refused(conn, Unique("idx_plans_stripe_price_id"), &plan("EDUCATOR", "'price_pro'", "0", "USD", "month", "{}"))
        .await?;
    refused(conn, Check("plans_currency_check"), &plan("EDUCATOR", "NULL", "0", "usd", "month", "{}")).await?;
    refused(conn, Check("plans_price_amount_minor_check"), &plan("EDUCATOR", "NULL", "-1", "USD", "month", "{}"))
        .await?;
    refused(conn, Check("plans_billing_interval_check"), &plan("EDUCATOR", "NULL", "0", "USD", "week", "{}")).await?;
    refused(conn, Check("plans_entitlements_check"), &plan("EDUCATOR", "NULL", "0", "USD", "month", "[]")).await?;

    // subscriptions
    let (s1, s2) = (id(101), id(102));
    let subscription = |sub: &str, user: u32, customer: &str, stripe_sub: &str, status: &str, tier: &str| {
        format!(
            "INSERT INTO subscriptions (id, user_id, stripe_customer_id, stripe_subscription_id, status, tier, \
                                        current_period_start, current_period_end) \
             VALUES ('{sub}', '{}', {customer}, {stripe_sub}, '{status}', '{tier}', now(), now() + interval '1 month')",
            id(user)
        )
    };
    accepted(conn, &subscription(&s1, 1, "'cus_1'", "'sub_1'", "ACTIVE", "PRO")).await?;
    refused(conn, Check("subscriptions_status_check"), &subscription(&id(103), 2, "NULL", "NULL", "active", "PRO"))
        .await?;
    refused(conn, Check("subscriptions_tier_check"), &subscription(&id(103), 2, "NULL", "NULL", "ACTIVE", "GOLD"))
        .await?;
    refused(
        conn,
        Unique("idx_subscriptions_user_id_live"),
        &subscription(&id(103), 1, "NULL", "NULL", "ACTIVE", "FREE"),
    )
    .await?;
    refused(conn, NotNull("user_id"), &format!("INSERT INTO subscriptions (id) VALUES ('{}')", id(103))).await?;
    // One live subscription per user: a soft-deleted one does not count, but
    // its Stripe ids stay taken.
    execute(conn, &format!("UPDATE subscriptions SET deleted_at = now() WHERE id = '{s1}'")).await?;
    accepted(conn, &format!("INSERT INTO subscriptions (id, user_id) VALUES ('{s2}', '{}')", id(1))).await?;
    let defaults =
        lines(conn, &format!("SELECT status || ' ' || tier AS line FROM subscriptions WHERE id = '{s2}'")).await?;
    assert_eq!(defaults, ["INACTIVE FREE"], "subscription defaults");
    refused(
        conn,
        Unique("idx_subscriptions_stripe_customer_id"),
        &subscription(&id(103), 2, "'cus_1'", "NULL", "ACTIVE", "PRO"),
    )
    .await?;
    refused(
        conn,
        Unique("idx_subscriptions_stripe_subscription_id"),
        &subscription(&id(103), 2, "'cus_2'", "'sub_1'", "ACTIVE", "PRO"),
    )
    .await?;

    // usage_records
    let usage = |n: u32, sub: &str, feature: &str, quantity: &str, key: &str| {
        format!(
            "INSERT INTO usage_records (id, subscription_id, feature, quantity, idempotency_key) \
             VALUES ('{}', '{sub}', '{feature}', {quantity}, {key})",
            id(n)
        )
    };
    accepted(conn, &usage(201, &s2, "ai_generation", "1", "'req-1'")).await?;
    accepted(conn, &usage(202, &s2, "audio_export", "3", "'req-2'")).await?;
    refused(conn, Check("usage_records_quantity_check"), &usage(203, &s2, "ai_generation", "0", "'req-3'")).await?;
    refused(conn, Check("usage_records_feature_check"), &usage(203, &s2, "", "1", "'req-3'")).await?;
    refused(
        conn,
        ForeignKey("usage_records_subscription_id_fkey"),
        &usage(203, &id(999), "ai_generation", "1", "'req-3'"),
    )
    .await?;
    refused(
        conn,
        Unique("idx_usage_records_subscription_id_idempotency_key"),
        &usage(203, &s2, "ai_generation", "1", "'req-1'"),
    )
    .await?;
    refused(conn, NotNull("idempotency_key"), &usage(203, &s2, "ai_generation", "1", "NULL")).await?;

    // stripe_events (not in the seed)
    accepted(
        conn,
        "INSERT INTO stripe_events (id, event_type, stripe_created_at) VALUES ('evt_1', 'invoice.paid', now())",
    )
    .await?;
    refused(
        conn,
        Unique("stripe_events_pkey"),
        "INSERT INTO stripe_events (id, event_type, stripe_created_at) VALUES ('evt_1', 'invoice.paid', now())",
    )
    .await?;
    refused(
        conn,
        Check("stripe_events_id_check"),
        "INSERT INTO stripe_events (id, event_type, stripe_created_at) VALUES ('', 'invoice.paid', now())",
    )
    .await?;

    platform_constraints(conn).await?;

    // Deleting a subscription cascades to its usage records.
    execute(conn, &format!("DELETE FROM subscriptions WHERE id = '{s2}'")).await?;
    assert_eq!(number(conn, "SELECT count(*) AS n FROM usage_records").await?, 0, "usage records survived");

    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_tables_accept_valid_rows_and_refuse_broken_ones() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Content).await?;
    let conn = &mut conn;
    let (u1, u2) = (id(1), id(2));
    let (c1, c2) = (id(301), id(302));
    let missing = id(999);

    // generated_content
    accepted(
        conn,
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, description, parameters, music_data, \
                                            difficulty, key, tempo, time_signature, style, tags, is_public) \
             VALUES ('{c1}', '{u1}', 'JAZZ_LICK', 'Bebop lick in F', 'Over a ii-V-I', '{{\"key\": \"F\"}}', \
                     '{{\"notes\": []}}', 'ADVANCED', 'F', 160, '4/4', 'bebop', '{{bebop,enclosure}}', true)"
        ),
    )
    .await?;
    // Minimal row: no description (still searchable by its title).
    accepted(
        conn,
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data) \
             VALUES ('{c2}', '{u2}', 'CHORD_PROGRESSION', 'Modal vamp', '{{}}', '{{}}')"
        ),
    )
    .await?;
    let content = |column: &str, value: &str| {
        format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data, {column}) \
             VALUES ('{}', '{u1}', 'MELODY', 'Tune', '{{}}', '{{}}', {value})",
            id(303)
        )
    };
    refused(conn, Check("generated_content_difficulty_check"), &content("difficulty", "'HARD'")).await?;
    refused(conn, Check("generated_content_tempo_check"), &content("tempo", "400")).await?;
    refused(conn, Check("generated_content_tempo_check"), &content("tempo", "39")).await?;
    refused(conn, Check("generated_content_time_signature_check"), &content("time_signature", "'four'")).await?;
    refused(conn, Check("generated_content_tags_check"), &content("tags", "ARRAY['bebop', NULL]")).await?;
    refused(
        conn,
        Check("generated_content_tags_check"),
        &content("tags", "(SELECT array_agg('t' || i) FROM generate_series(1, 51) i)"),
    )
    .await?;
    refused(conn, Check("generated_content_likes_check"), &content("likes", "-1")).await?;
    refused(conn, Check("generated_content_views_check"), &content("views", "-1")).await?;
    refused(conn, Check("generated_content_key_check"), &content("key", "repeat('C', 17)")).await?;
    refused(conn, NotNull("tags"), &content("tags", "NULL")).await?;
    refused(
        conn,
        Check("generated_content_type_check"),
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data) \
             VALUES ('{}', '{u1}', 'RIFF', 'Tune', '{{}}', '{{}}')",
            id(303)
        ),
    )
    .await?;
    refused(
        conn,
        Check("generated_content_title_check"),
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data) \
             VALUES ('{}', '{u1}', 'MELODY', '', '{{}}', '{{}}')",
            id(303)
        ),
    )
    .await?;
    refused(
        conn,
        NotNull("music_data"),
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters) VALUES ('{}', '{u1}', 'MELODY', 'Tune', '{{}}')",
            id(303)
        ),
    )
    .await?;
    refused(
        conn,
        Unique("generated_content_pkey"),
        &format!(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data) \
             VALUES ('{c1}', '{u1}', 'MELODY', 'Tune', '{{}}', '{{}}')"
        ),
    )
    .await?;
    // The stored search_vector: title, tags, and rows without a description.
    let search = |query: &str| {
        format!(
            "SELECT title AS line FROM generated_content \
              WHERE search_vector @@ websearch_to_tsquery('english', '{query}') ORDER BY title"
        )
    };
    assert_eq!(lines(conn, &search("bebop licks")).await?, ["Bebop lick in F"]);
    assert_eq!(lines(conn, &search("enclosure")).await?, ["Bebop lick in F"], "tags are not searchable");
    assert_eq!(lines(conn, &search("modal")).await?, ["Modal vamp"], "a row without description is not searchable");

    // saved_content
    let saved = |n: u32, user: &str, content: &str, collection: &str| {
        format!(
            "INSERT INTO saved_content (id, user_id, generated_content_id, collection_name, is_favorite) \
             VALUES ('{}', '{user}', '{content}', {collection}, true)",
            id(n)
        )
    };
    accepted(conn, &saved(311, &u1, &c1, "'Favourites'")).await?;
    accepted(conn, &saved(312, &u2, &c1, "NULL")).await?;
    refused(conn, Unique("saved_content_pkey"), &saved(311, &u1, &c2, "NULL")).await?;
    refused(conn, Unique("idx_saved_content_user_id_generated_content_id"), &saved(313, &u1, &c1, "NULL")).await?;
    refused(conn, ForeignKey("saved_content_generated_content_id_fkey"), &saved(313, &u2, &missing, "NULL")).await?;
    refused(conn, Check("saved_content_collection_name_check"), &saved(313, &u1, &c2, "''")).await?;

    // content_likes (not in the seed)
    let like = |user: &str, content: &str| {
        format!("INSERT INTO content_likes (user_id, generated_content_id) VALUES ('{user}', '{content}')")
    };
    accepted(conn, &like(&u2, &c1)).await?;
    refused(conn, Unique("content_likes_pkey"), &like(&u2, &c1)).await?;
    refused(conn, ForeignKey("content_likes_generated_content_id_fkey"), &like(&u2, &missing)).await?;

    platform_constraints(conn).await?;

    // Deleting content cascades to saves and likes.
    execute(conn, &format!("DELETE FROM generated_content WHERE id = '{c1}'")).await?;
    for table in ["saved_content", "content_likes"] {
        let left = number(conn, &format!("SELECT count(*) AS n FROM {table}")).await?;
        assert_eq!(left, 0, "{table} rows of deleted content survived");
    }

    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_tables_accept_valid_rows_and_refuse_broken_ones() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Progress).await?;
    let conn = &mut conn;
    let u1 = id(1);
    let content = id(301);
    let ps1 = id(411);

    // progress_records
    let progress = |column: &str, value: &str| {
        format!(
            "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, time_spent, {column}) \
             VALUES ('{}', '{u1}', 'improvisation', 'ADVANCED', 30, {value})",
            id(402)
        )
    };
    accepted(
        conn,
        &format!(
            "INSERT INTO progress_records (id, user_id, generated_content_id, skill_area, difficulty_level, score, \
                                           time_spent, completion_rate, notes) \
             VALUES ('{}', '{u1}', '{content}', 'improvisation', 'EXPERT', 87.5, 30, 100, 'good')",
            id(401)
        ),
    )
    .await?;
    refused(conn, Check("progress_records_score_check"), &progress("score", "101")).await?;
    refused(conn, Check("progress_records_score_check"), &progress("score", "-0.5")).await?;
    refused(conn, Check("progress_records_score_check"), &progress("score", "'NaN'")).await?;
    refused(conn, Check("progress_records_completion_rate_check"), &progress("completion_rate", "100.1")).await?;
    refused(
        conn,
        Check("progress_records_time_spent_check"),
        &format!(
            "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, time_spent) \
             VALUES ('{}', '{u1}', 'improvisation', 'ADVANCED', -1)",
            id(402)
        ),
    )
    .await?;
    refused(
        conn,
        Check("progress_records_difficulty_level_check"),
        &format!(
            "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, time_spent) \
             VALUES ('{}', '{u1}', 'improvisation', 'PROFESSIONAL', 1)",
            id(402)
        ),
    )
    .await?;
    refused(
        conn,
        NotNull("difficulty_level"),
        &format!(
            "INSERT INTO progress_records (id, user_id, skill_area, time_spent) VALUES ('{}', '{u1}', 'improvisation', 1)",
            id(402)
        ),
    )
    .await?;

    // practice_sessions
    let session = |n: u32, column: &str, value: &str| {
        format!(
            "INSERT INTO practice_sessions (id, user_id, started_at, {column}) \
             VALUES ('{}', '{u1}', now() - interval '1 hour', {value})",
            id(n)
        )
    };
    accepted(
        conn,
        &format!(
            "INSERT INTO practice_sessions (id, user_id, title, duration, goals, achievements, rating, started_at, ended_at) \
             VALUES ('{ps1}', '{u1}', 'Morning', 45, '{{ii-V-I}}', '{{}}', 4, now() - interval '1 hour', now())"
        ),
    )
    .await?;
    refused(conn, Check("practice_sessions_rating_check"), &session(412, "rating", "6")).await?;
    refused(conn, Check("practice_sessions_rating_check"), &session(412, "rating", "0")).await?;
    refused(conn, Check("practice_sessions_duration_check"), &session(412, "duration", "-5")).await?;
    refused(
        conn,
        Check("practice_sessions_ended_after_started_check"),
        &session(412, "ended_at", "now() - interval '2 hours'"),
    )
    .await?;
    refused(conn, Check("practice_sessions_goals_check"), &session(412, "goals", "ARRAY[NULL]::text[]")).await?;
    refused(conn, Check("practice_sessions_title_check"), &session(412, "title", "''")).await?;
    refused(
        conn,
        NotNull("started_at"),
        &format!("INSERT INTO practice_sessions (id, user_id) VALUES ('{}', '{u1}')", id(412)),
    )
    .await?;

    // practice_records
    let record = |session: &str, column: &str, value: &str| {
        format!(
            "INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, difficulty, {column}) \
             VALUES ('{}', '{session}', '{content}', 10, 'EXPERT', {value})",
            id(422)
        )
    };
    accepted(
        conn,
        &format!(
            "INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, repetitions, \
                                           difficulty, performance) \
             VALUES ('{}', '{ps1}', '{content}', 10, 3, 'EXPERT', 99.9)",
            id(421)
        ),
    )
    .await?;
    refused(conn, ForeignKey("practice_records_practice_session_id_fkey"), &record(&id(999), "repetitions", "1"))
        .await?;
    refused(conn, Check("practice_records_repetitions_check"), &record(&ps1, "repetitions", "0")).await?;
    refused(conn, Check("practice_records_performance_check"), &record(&ps1, "performance", "101")).await?;
    refused(
        conn,
        Check("practice_records_difficulty_check"),
        &format!(
            "INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, difficulty) \
             VALUES ('{}', '{ps1}', '{content}', 10, 'HARD')",
            id(422)
        ),
    )
    .await?;
    refused(
        conn,
        Check("practice_records_time_spent_check"),
        &format!(
            "INSERT INTO practice_records (id, practice_session_id, generated_content_id, time_spent, difficulty) \
             VALUES ('{}', '{ps1}', '{content}', -1, 'EXPERT')",
            id(422)
        ),
    )
    .await?;

    // review_items (not in the seed)
    let review = |column: &str, value: &str| {
        format!(
            "INSERT INTO review_items (user_id, generated_content_id, {column}) VALUES ('{}', '{content}', {value})",
            id(2)
        )
    };
    accepted(conn, &format!("INSERT INTO review_items (user_id, generated_content_id) VALUES ('{u1}', '{content}')"))
        .await?;
    let defaults = lines(
        conn,
        &format!(
            "SELECT concat_ws(' ', ease, interval_days, repetitions, (due_on = CURRENT_DATE)::text) AS line \
               FROM review_items WHERE user_id = '{u1}'"
        ),
    )
    .await?;
    assert_eq!(defaults, ["2.5 0 0 true"], "review_items defaults");
    refused(
        conn,
        Unique("review_items_pkey"),
        &format!("INSERT INTO review_items (user_id, generated_content_id) VALUES ('{u1}', '{content}')"),
    )
    .await?;
    refused(conn, Check("review_items_ease_check"), &review("ease", "11")).await?;
    refused(conn, Check("review_items_ease_check"), &review("ease", "0.5")).await?;
    refused(conn, Check("review_items_interval_days_check"), &review("interval_days", "36501")).await?;
    refused(conn, Check("review_items_last_performance_check"), &review("last_performance", "'NaN'")).await?;

    // system_metrics
    let metric = |n: u32, name: &str, value: &str| {
        format!(
            "INSERT INTO system_metrics (id, metric_name, value, dimensions) VALUES ('{}', {name}, {value}, '{{\"region\": \"eu\"}}')",
            id(n)
        )
    };
    accepted(conn, &metric(431, "'daily_active_users'", "42")).await?;
    accepted(conn, &format!("INSERT INTO system_metrics (id, metric_name, value) VALUES ('{}', 'old', 1)", id(432)))
        .await?;
    refused(conn, Check("system_metrics_value_check"), &metric(433, "'dau'", "'Infinity'")).await?;
    refused(conn, Check("system_metrics_value_check"), &metric(433, "'dau'", "'-Infinity'")).await?;
    refused(conn, Check("system_metrics_value_check"), &metric(433, "'dau'", "'NaN'")).await?;
    refused(conn, Check("system_metrics_metric_name_check"), &metric(433, "''", "1")).await?;
    refused(conn, NotNull("metric_name"), &metric(433, "NULL", "1")).await?;
    refused(
        conn,
        Unique("system_metrics_*"),
        &format!(
            "INSERT INTO system_metrics (id, metric_name, value, recorded_at) \
             SELECT id, metric_name, value, recorded_at FROM system_metrics WHERE id = '{}'",
            id(431)
        ),
    )
    .await?;

    platform_constraints(conn).await?;

    // Deleting a practice session cascades to its records.
    execute(conn, &format!("DELETE FROM practice_sessions WHERE id = '{ps1}'")).await?;
    assert_eq!(number(conn, "SELECT count(*) AS n FROM practice_records").await?, 0, "practice records survived");

    db.drop_database().await
}

// ---------------------------------------------------------------------------
// c. the hot queries of seed 3.1 use their indexes
// ---------------------------------------------------------------------------

/// `VACUUM ANALYZE`, not just `ANALYZE`: after a bulk insert every new GIN
/// entry sits in the index's pending list (fastupdate), which the planner
/// prices as a full scan of that list, so it picks a sequential scan until
/// (auto)vacuum merges the list. Plain `ANALYZE` does not merge it.
async fn vacuum_analyze(conn: &mut AsyncPgConnection, table: &str) -> anyhow::Result<()> {
    execute(conn, &format!("VACUUM ANALYZE {table}")).await?;
    Ok(())
}

/// The plan of `query`, one line per node.
async fn plan(conn: &mut AsyncPgConnection, query: &str) -> anyhow::Result<Vec<String>> {
    let rows: Vec<PlanLine> = diesel::sql_query(format!("EXPLAIN (COSTS OFF) {query}"))
        .load(conn)
        .await
        .with_context(|| format!("EXPLAIN failed: {query}"))?;
    Ok(rows.into_iter().map(|row| row.line).collect())
}

/// Does the plan scan `index` (index, index-only or bitmap index scan)?
fn scans(plan: &[String], index: &str) -> bool {
    plan.iter().any(|line| {
        let line = line.trim_end();
        (line.contains("Index Scan using ") || line.contains("Index Only Scan using "))
            && line.contains(&format!(" using {index} on "))
            || line.contains("Bitmap Index Scan on ") && line.ends_with(&format!(" on {index}"))
    })
}

async fn assert_scans(conn: &mut AsyncPgConnection, query: &str, index: &str) -> anyhow::Result<()> {
    let plan = plan(conn, query).await?;
    anyhow::ensure!(scans(&plan, index), "expected a scan of {index} for:\n  {query}\nplan:\n  {}", plan.join("\n  "));
    Ok(())
}

#[test]
fn plan_matching_is_exact_about_index_names() {
    let plan = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    let index = plan("Limit\n  ->  Index Scan using idx_subscriptions_status on subscriptions\n        Filter: x");
    assert!(scans(&index, "idx_subscriptions_status"));
    assert!(!scans(&index, "idx_subscription_status"));
    let bitmap = plan("Bitmap Heap Scan on generated_content\n  ->  Bitmap Index Scan on idx_content_search");
    assert!(scans(&bitmap, "idx_content_search"));
    assert!(!scans(&bitmap, "generated_content"));
    assert!(!scans(&plan("Seq Scan on users\n  Filter: (email = 'a')"), "users"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_lookups_use_their_indexes() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Identity).await?;
    let conn = &mut conn;
    execute(
        conn,
        "INSERT INTO users (id, email, first_name, last_name, username, is_active, deleted_at) \
         SELECT md5('user' || i)::uuid, 'user' || i || '@example.com', 'First', 'Last', 'user' || i, \
                i % 10 <> 0, CASE WHEN i % 20 = 0 THEN now() END \
           FROM generate_series(1, 20000) AS i",
    )
    .await?;
    vacuum_analyze(conn, "users").await?;
    assert_scans(conn, "SELECT id, first_name FROM users WHERE email = 'user12345@example.com'", "idx_users_email")
        .await?;
    assert_scans(conn, "SELECT id FROM users WHERE username = 'user777'", "idx_users_username").await?;
    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_events_of_one_row_use_their_index() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Identity).await?;
    let conn = &mut conn;
    // 50 000 delivered events of 10 000 users: sign-ups and queued mails.
    execute(
        conn,
        "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status, created_at, delivered_at) \
         SELECT md5('event' || i)::uuid, \
                CASE WHEN i % 5 = 0 THEN 'identity.user_created' ELSE 'identity.mail_requested' END, \
                'USER' || (i % 10000), '{\"kind\": \"verification\"}', 'delivered', \
                now() - i * interval '1 second', now() \
           FROM generate_series(1, 50000) AS i",
    )
    .await?;
    vacuum_analyze(conn, "outbox_events").await?;
    // identity's resend limit (mail_outbox::queued_since).
    assert_scans(
        conn,
        "SELECT EXISTS (SELECT 1 FROM outbox_events WHERE aggregate_id = 'USER42' \
           AND event_type = 'identity.mail_requested' AND created_at > now() - interval '1 minute' \
           AND payload ->> 'kind' = 'verification')",
        "idx_outbox_events_aggregate",
    )
    .await?;
    // The purges' delete of one user's (or one item's) past events.
    assert_scans(conn, "DELETE FROM outbox_events WHERE aggregate_id = 'USER42'", "idx_outbox_events_aggregate")
        .await?;
    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_queries_use_their_indexes() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Content).await?;
    let conn = &mut conn;
    // 100 000 items (the scale issue 6 names) of 5 000 users; 1 in 500 is a
    // bebop lick, a third are public, 1 in 50 is soft-deleted.
    execute(
        conn,
        "INSERT INTO generated_content (id, user_id, type, title, description, parameters, music_data, tags, \
                                        is_public, likes, created_at, deleted_at) \
         SELECT md5('content' || i)::uuid, md5('user' || (i % 5000))::uuid, 'JAZZ_LICK', \
                CASE WHEN i % 500 = 0 THEN 'Bebop lick ' || i \
                     ELSE (ARRAY['Modal', 'Blues', 'Swing', 'Latin', 'Ballad'])[i % 5 + 1] || ' exercise ' || i END, \
                CASE WHEN i % 2 = 0 THEN 'Practice material number ' || i END, '{}', '{}', \
                ARRAY[(ARRAY['swing', 'blues', 'modal', 'latin'])[i % 4 + 1], 'tag' || (i % 300)], \
                i % 3 = 0, i % 97, now() - i * interval '1 minute', CASE WHEN i % 50 = 0 THEN now() END \
           FROM generate_series(1, 100000) AS i",
    )
    .await?;
    vacuum_analyze(conn, "generated_content").await?;
    assert_scans(
        conn,
        "SELECT id, title FROM generated_content WHERE search_vector @@ websearch_to_tsquery('english', 'bebop lick')",
        "idx_content_search",
    )
    .await?;
    // SearchContent's candidates (store::content::search): for a common
    // word the newest matches come off the covering index, for a rare one
    // off the GIN index; neither ranks every match.
    let candidates = |words: &str| {
        format!(
            "SELECT id, ts_rank(search_vector, websearch_to_tsquery('english', '{words}')) FROM generated_content \
              WHERE search_vector @@ websearch_to_tsquery('english', '{words}') AND deleted_at IS NULL \
                AND (user_id = md5('user' || 7)::uuid OR is_public) \
              ORDER BY created_at DESC, id DESC LIMIT 1000"
        )
    };
    assert_scans(conn, &candidates("blues"), "idx_generated_content_search_recent").await?;
    assert_scans(conn, &candidates("bebop lick"), "idx_content_search").await?;
    assert_scans(
        conn,
        "SELECT id FROM generated_content WHERE is_public AND deleted_at IS NULL \
          ORDER BY created_at DESC, id DESC LIMIT 20",
        "idx_generated_content_public_recent",
    )
    .await?;
    assert_scans(
        conn,
        "SELECT id FROM generated_content WHERE is_public AND deleted_at IS NULL ORDER BY likes DESC, id DESC LIMIT 20",
        "idx_generated_content_public_popular",
    )
    .await?;
    let user = "md5('user' || 123)::uuid";
    assert_scans(
        conn,
        &format!(
            "SELECT id FROM generated_content WHERE user_id = {user} AND deleted_at IS NULL \
              ORDER BY created_at DESC, id DESC LIMIT 20"
        ),
        "idx_content_user_date",
    )
    .await?;
    // Keyset: the next page after a (created_at, id) cursor.
    assert_scans(
        conn,
        &format!(
            "SELECT id FROM generated_content WHERE user_id = {user} AND deleted_at IS NULL \
                AND (created_at, id) < (now() - interval '10 days', md5('x')::uuid) \
              ORDER BY created_at DESC, id DESC LIMIT 20"
        ),
        "idx_content_user_date",
    )
    .await?;
    assert_scans(conn, "SELECT id FROM generated_content WHERE tags @> ARRAY['tag17']", "idx_generated_content_tags")
        .await?;
    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_queries_use_their_indexes() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Progress).await?;
    let conn = &mut conn;
    // 40 000 records of 2 000 users over 8 skill areas.
    execute(
        conn,
        "INSERT INTO progress_records (id, user_id, skill_area, difficulty_level, score, time_spent, recorded_at) \
         SELECT md5('progress' || i)::uuid, md5('user' || (i % 2000))::uuid, \
                (ARRAY['improvisation', 'chord_voicings', 'scales', 'rhythm', 'ear_training', 'sight_reading', \
                       'comping', 'repertoire'])[(i / 2000) % 8 + 1], \
                (ARRAY['BEGINNER', 'INTERMEDIATE', 'ADVANCED', 'EXPERT'])[i % 4 + 1], i % 101, i % 60, \
                now() - i * interval '1 minute' \
           FROM generate_series(1, 40000) AS i",
    )
    .await?;
    vacuum_analyze(conn, "progress_records").await?;
    let user = "md5('user' || 42)::uuid";
    assert_scans(
        conn,
        &format!("SELECT id, score FROM progress_records WHERE user_id = {user} AND skill_area = 'comping'"),
        "idx_progress_user_skill",
    )
    .await?;
    assert_scans(
        conn,
        &format!("SELECT id, score FROM progress_records WHERE user_id = {user} ORDER BY recorded_at DESC LIMIT 20"),
        "idx_progress_date",
    )
    .await?;
    db.drop_database().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_queries_use_their_indexes() -> anyhow::Result<()> {
    let (db, mut conn) = migrated(ServiceName::Billing).await?;
    let conn = &mut conn;
    // 20 000 subscriptions; 1 % past due, half of those past their period end.
    execute(
        conn,
        "INSERT INTO subscriptions (id, user_id, stripe_customer_id, status, tier, current_period_start, \
                                    current_period_end) \
         SELECT md5('sub' || i)::uuid, md5('user' || i)::uuid, 'cus_' || i, \
                CASE WHEN i % 100 = 0 THEN 'PAST_DUE' WHEN i % 7 = 0 THEN 'CANCELED' ELSE 'ACTIVE' END, \
                (ARRAY['FREE', 'PRO', 'EDUCATOR'])[i % 3 + 1], now() - interval '20 days', \
                CASE WHEN i % 200 = 0 THEN now() - interval '2 days' \
                     ELSE now() + (i % 30) * interval '1 day' END \
           FROM generate_series(1, 20000) AS i",
    )
    .await?;
    vacuum_analyze(conn, "subscriptions").await?;
    assert_scans(
        conn,
        "SELECT id, user_id FROM subscriptions WHERE status = 'PAST_DUE' AND current_period_end < now()",
        "idx_subscription_status",
    )
    .await?;
    assert_scans(
        conn,
        "SELECT id FROM subscriptions WHERE stripe_customer_id = 'cus_777'",
        "idx_subscriptions_stripe_customer_id",
    )
    .await?;
    db.drop_database().await
}
