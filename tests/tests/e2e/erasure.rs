//! Erasure in progress, on the whole suite: a purged user leaves no row
//! with their id behind (`ProgressInternalService.PurgeUser`), and a purged
//! content item reaches progress through content's outbox relay, which
//! deletes its practice records and review entries and clears it from
//! progress records (`HandleContentDeleted`). Replayed events change
//! nothing. Progress is called directly with signed principals; content
//! items are inserted into content's database with SQL.

use jazz_e2e::bad_fields as fields_of;
use std::time::Duration;

use diesel::sql_types::{BigInt, Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::progress_internal_service_client::ProgressInternalServiceClient;
use jazz_contract::jazz::progress::v1::progress_service_client::ProgressServiceClient;
use jazz_contract::jazz::progress::v1::*;
use jazz_e2e::{Suite, TEST_PRINCIPAL_SECRET};
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use uuid::Uuid;

struct Env {
    suite: Suite,
    progress: Channel,
    key: PrincipalKey,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

impl Env {
    async fn start() -> anyhow::Result<Self> {
        let suite = Suite::start().await?;
        let progress = suite.service_channel(ServiceName::Progress).await?;
        Ok(Self { suite, progress, key: PrincipalKey::new(SecretString::from(TEST_PRINCIPAL_SECRET.to_owned())) })
    }

    fn signed<T>(&self, message: T, principal: &Principal) -> Request<T> {
        let mut request = Request::new(message);
        self.key.attach(&mut request, principal);
        request
    }

    fn as_user<T>(&self, user: Uuid, message: T) -> Request<T> {
        self.signed(message, &Principal::user(user, new_id(), "test"))
    }

    fn internal(&self) -> ProgressInternalServiceClient<Channel> {
        ProgressInternalServiceClient::new(self.progress.clone())
    }

    async fn sql(&self, service: ServiceName) -> anyhow::Result<AsyncPgConnection> {
        let db = self.suite.databases.iter().find(|(s, _)| *s == service).map(|(_, d)| d);
        db.ok_or_else(|| anyhow::anyhow!("no database"))?.connect().await
    }

    async fn count(&self, service: ServiceName, sql: &str) -> anyhow::Result<i64> {
        let row: Count = diesel::sql_query(sql).get_result(&mut self.sql(service).await?).await?;
        Ok(row.n)
    }

    /// A public item of `owner`, inserted straight into content's database.
    async fn item(&self, owner: Uuid) -> anyhow::Result<Uuid> {
        let id = new_id();
        diesel::sql_query(
            "INSERT INTO generated_content (id, user_id, type, title, parameters, music_data, difficulty, key, \
             is_public) VALUES ($1, $2, 'JAZZ_LICK', 'Test lick', '{}', '{}', 'ADVANCED', 'Bb', $3)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(owner)
        .bind::<Bool, _>(true)
        .execute(&mut self.sql(ServiceName::Content).await?)
        .await?;
        Ok(id)
    }

    /// `user` practises `items` in one ended session (each with a replay
    /// key) and records progress on each: sessions, practice records,
    /// review entries, progress records, replay rows and audit entries.
    async fn practise(&self, user: Uuid, items: &[Uuid]) -> anyhow::Result<String> {
        let mut practice = PracticeServiceClient::new(self.progress.clone());
        let start = StartPracticeSessionRequest {
            title: "Rhythm changes".into(),
            request_id: "start".into(),
            ..Default::default()
        };
        let session = practice.start_practice_session(self.as_user(user, start)).await?.into_inner().session;
        let session = session.ok_or_else(|| anyhow::anyhow!("no session"))?.id;
        for (i, item) in items.iter().enumerate() {
            let add = AddPracticeRecordRequest {
                practice_session_id: session.clone(),
                content_id: to_api(*item),
                minutes: 10,
                performance: Some(80.0),
                request_id: format!("add-{i}"),
                ..Default::default()
            };
            practice.add_practice_record(self.as_user(user, add)).await?;
            let record = RecordProgressRequest {
                skill_area: "improvisation".into(),
                difficulty: Difficulty::Advanced.into(),
                minutes: 10,
                content_id: to_api(*item),
                request_id: format!("progress-{i}"),
                ..Default::default()
            };
            ProgressServiceClient::new(self.progress.clone()).record_progress(self.as_user(user, record)).await?;
        }
        let end = EndPracticeSessionRequest { id: session.clone(), rating: Some(4), ..Default::default() };
        practice.end_practice_session(self.as_user(user, end)).await?;
        Ok(session)
    }

    /// Rows anywhere in progress's database that mention `user` (as uuid or
    /// ULID, in any column; replay answers are searched as bytes).
    async fn traces_of(&self, user: Uuid) -> anyhow::Result<i64> {
        self.traces_in(ServiceName::Progress, user).await
    }

    /// Rows anywhere in `service`'s database that mention `user`.
    async fn traces_in(&self, service: ServiceName, user: Uuid) -> anyhow::Result<i64> {
        let mut conn = self.sql(service).await?;
        let tables: Vec<Name> = diesel::sql_query(
            "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             AND c.relname <> '__diesel_schema_migrations'",
        )
        .load(&mut conn)
        .await?;
        let mut total = 0;
        for table in tables {
            let sql = format!(
                "SELECT count(*) AS n FROM \"{0}\" t WHERE t::text LIKE '%' || $1 || '%' OR t::text LIKE '%' || $2 || '%'",
                table.name
            );
            let row: Count = diesel::sql_query(sql)
                .bind::<Text, _>(user.to_string())
                .bind::<Text, _>(to_api(user))
                .get_result(&mut conn)
                .await?;
            total += row.n;
        }
        let replies: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM idempotency_keys WHERE position(convert_to($1, 'UTF8') IN response) > 0",
        )
        .bind::<Text, _>(to_api(user))
        .get_result(&mut conn)
        .await?;
        Ok(total + replies.n)
    }

    /// Row counts of progress's tables, to compare before and after.
    async fn snapshot(&self) -> anyhow::Result<Vec<i64>> {
        let mut counts = Vec::new();
        for table in [
            "practice_sessions",
            "practice_records",
            "progress_records",
            "review_items",
            "idempotency_keys",
            "audit_logs",
            "processed_events",
            "progress_records WHERE generated_content_id IS NULL",
            "audit_logs WHERE user_id IS NULL",
        ] {
            counts.push(self.count(ServiceName::Progress, &format!("SELECT count(*) AS n FROM {table}")).await?);
        }
        Ok(counts)
    }
}

/// Rows of progress that reference the content item `item`.
fn references(item: Uuid) -> String {
    format!(
        "SELECT (SELECT count(*) FROM practice_records WHERE generated_content_id = '{item}') \
         + (SELECT count(*) FROM review_items WHERE generated_content_id = '{item}') \
         + (SELECT count(*) FROM progress_records WHERE generated_content_id = '{item}') AS n"
    )
}

fn identity() -> Principal {
    Principal::service("identity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_user_leaves_no_row_in_progress_and_a_replay_changes_nothing() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (me, other) = (new_id(), new_id());
    let items = [env.item(other).await?, env.item(other).await?];
    env.practise(me, &items).await?;
    env.practise(other, &items[..1]).await?;
    assert!(env.traces_of(me).await? > 10, "sessions, records, reviews, replays and audit entries");
    let audit_before = env.count(ServiceName::Progress, "SELECT count(*) AS n FROM audit_logs").await?;
    let other_before = env.traces_of(other).await?;

    let event = to_api(new_id());
    let purge = PurgeUserRequest { event_id: event.clone(), user_id: to_api(me), ..Default::default() };
    let first = env.internal().purge_user(env.signed(purge.clone(), &identity())).await?.into_inner();
    assert!(!first.duplicate);
    assert_eq!(env.traces_of(me).await?, 0, "no row of progress holds the user's id");
    assert_eq!(env.traces_of(other).await?, other_before, "the other user keeps everything");
    // Audit entries keep their action with the user cleared, plus the purge's own.
    let audit_after = env.count(ServiceName::Progress, "SELECT count(*) AS n FROM audit_logs").await?;
    assert_eq!(audit_after, audit_before + 1);
    let kept = env
        .count(
            ServiceName::Progress,
            "SELECT count(*) AS n FROM audit_logs WHERE user_id IS NULL AND action = 'CREATE'",
        )
        .await?;
    assert!(kept >= 5, "the user's CREATE entries remain, anonymised: {kept}");

    // The same event again: answered as a duplicate, nothing changes.
    let before = env.snapshot().await?;
    let again = env.internal().purge_user(env.signed(purge, &identity())).await?.into_inner();
    assert!(again.duplicate);
    assert_eq!(env.snapshot().await?, before);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_handlers_refuse_bad_ids_naming_the_field_and_refuse_users() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let before = env.snapshot().await?;
    let purge = PurgeUserRequest { event_id: "nope".into(), user_id: String::new(), ..Default::default() };
    let status =
        env.internal().purge_user(env.signed(purge, &identity())).await.err().unwrap_or_else(|| Status::ok(""));
    assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec!["event_id".into(), "user_id".into()]));
    let deleted =
        HandleContentDeletedRequest { event_id: to_api(new_id()), content_id: "0000".into(), ..Default::default() };
    let content = Principal::service("content");
    let status = env
        .internal()
        .handle_content_deleted(env.signed(deleted, &content))
        .await
        .err()
        .unwrap_or_else(|| Status::ok(""));
    assert_eq!((status.code(), fields_of(&status)), (Code::InvalidArgument, vec!["content_id".into()]));
    let purge = PurgeUserRequest { event_id: to_api(new_id()), user_id: to_api(new_id()), ..Default::default() };
    let status = env.internal().purge_user(env.as_user(new_id(), purge)).await.err().map(|s| s.code());
    assert_eq!(status, Some(Code::PermissionDenied));
    // An event of a schema version this release does not know is refused
    // for a retry (FAILED_PRECONDITION, never INVALID_ARGUMENT, which would
    // make it dead), and nothing is applied or recorded as processed.
    let newer = jazz_platform::outbox::SCHEMA_VERSION + 1;
    let purge = PurgeUserRequest { event_id: to_api(new_id()), user_id: to_api(new_id()), schema_version: newer };
    let status = env.internal().purge_user(env.signed(purge, &identity())).await.err().map(|s| s.code());
    assert_eq!(status, Some(Code::FailedPrecondition));
    let deleted =
        HandleContentDeletedRequest { event_id: to_api(new_id()), content_id: to_api(new_id()), schema_version: newer };
    let status = env.internal().handle_content_deleted(env.signed(deleted, &content)).await.err().map(|s| s.code());
    assert_eq!(status, Some(Code::FailedPrecondition));
    assert_eq!(env.snapshot().await?, before, "nothing was written");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_item_reaches_progress_through_the_relay_and_a_soft_delete_does_not() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (owner, learner) = (new_id(), new_id());
    let (gone, kept) = (env.item(owner).await?, env.item(new_id()).await?);
    env.practise(learner, &[gone, kept]).await?;
    assert_eq!(env.count(ServiceName::Progress, &references(gone)).await?, 3);

    // A soft delete can be undone within the window: progress keeps its
    // references, and the event counts as delivered.
    let mut content = content_pb::content_service_client::ContentServiceClient::new(
        env.suite.service_channel(ServiceName::Content).await?,
    );
    content.delete_content(env.as_user(owner, content_pb::DeleteContentRequest { id: to_api(gone) })).await?;
    let delivered = "SELECT count(*) AS n FROM outbox_events WHERE status = 'delivered'";
    let mut soft_delivered = 0;
    for _ in 0..100 {
        soft_delivered = env.count(ServiceName::Content, delivered).await?;
        if soft_delivered == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(soft_delivered, 1, "the soft delete's event was relayed");
    assert_eq!(env.count(ServiceName::Progress, &references(gone)).await?, 3);

    // The owner is purged in content: the item is hard-deleted, and its
    // event travels through content's relay to progress.
    let purge =
        content_pb::PurgeUserRequest { event_id: to_api(new_id()), user_id: to_api(owner), ..Default::default() };
    let mut internal = content_pb::content_internal_service_client::ContentInternalServiceClient::new(
        env.suite.service_channel(ServiceName::Content).await?,
    );
    internal.purge_user(env.signed(purge, &identity())).await?;
    let mut left = -1;
    for _ in 0..100 {
        left = env.count(ServiceName::Progress, "SELECT count(*) AS n FROM practice_records").await?;
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 1, "only the kept item's practice record remains");
    assert_eq!(env.count(ServiceName::Progress, &references(gone)).await?, 0);
    assert_eq!(env.count(ServiceName::Progress, &references(kept)).await?, 3, "the other item is untouched");
    let cleared = "SELECT count(*) AS n FROM progress_records WHERE generated_content_id IS NULL";
    assert_eq!(env.count(ServiceName::Progress, cleared).await?, 1, "the progress record stays, unlinked (SetNull)");
    assert_eq!(env.count(ServiceName::Progress, "SELECT count(*) AS n FROM practice_sessions").await?, 1);
    let audited = "SELECT count(*) AS n FROM audit_logs WHERE action = 'CONTENT_PURGE'";
    assert_eq!(env.count(ServiceName::Progress, audited).await?, 1);

    // The relay marks the event delivered once progress has answered.
    let hard = format!(
        "SELECT id::text AS name FROM outbox_events WHERE payload->>'hard' = 'true' AND aggregate_id = '{}'",
        to_api(gone)
    );
    let event: Name = diesel::sql_query(hard).get_result(&mut env.sql(ServiceName::Content).await?).await?;
    let event_id = to_api(event.name.parse::<Uuid>()?);
    let mut status = String::new();
    for _ in 0..50 {
        let row: Name =
            diesel::sql_query(format!("SELECT status AS name FROM outbox_events WHERE id = '{}'", event.name))
                .get_result(&mut env.sql(ServiceName::Content).await?)
                .await?;
        status = row.name;
        if status == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "delivered");
    assert_eq!(env.traces_in(ServiceName::Content, owner).await?, 0, "content holds nothing of the purged owner");

    // A redelivery of the same event is a duplicate and changes nothing.
    let before = env.snapshot().await?;
    let replay = HandleContentDeletedRequest { event_id, content_id: to_api(gone), ..Default::default() };
    let content_principal = Principal::service("content");
    let again = env.internal().handle_content_deleted(env.signed(replay, &content_principal)).await?.into_inner();
    assert_eq!((again.duplicate, again.deleted_practice_records, again.cleared_progress_records), (true, 0, 0));
    assert_eq!(env.snapshot().await?, before);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_deleted_longer_ago_than_the_window_is_purged_and_progress_lets_go_of_it() -> anyhow::Result<()> {
    let env = Env::start().await?;
    let (owner, learner) = (new_id(), new_id());
    let (old, recent) = (env.item(owner).await?, env.item(owner).await?);
    env.practise(learner, &[old, recent]).await?;
    let mut content = content_pb::content_service_client::ContentServiceClient::new(
        env.suite.service_channel(ServiceName::Content).await?,
    );
    for item in [old, recent] {
        content.delete_content(env.as_user(owner, content_pb::DeleteContentRequest { id: to_api(item) })).await?;
    }
    let mut db = env.sql(ServiceName::Content).await?;
    diesel::sql_query(format!(
        "UPDATE generated_content SET deleted_at = now() - interval '31 days' WHERE id = '{old}'"
    ))
    .execute(&mut db)
    .await?;

    assert_eq!(content::purge::purge_expired(&mut db).await?, vec![old], "only the item past the window");
    let rows = |item: Uuid| format!("SELECT count(*) AS n FROM generated_content WHERE id = '{item}'");
    assert_eq!(
        (env.count(ServiceName::Content, &rows(old)).await?, env.count(ServiceName::Content, &rows(recent)).await?),
        (0, 1)
    );
    let hard = format!(
        "SELECT count(*) AS n FROM outbox_events WHERE event_type = 'content.content_deleted' \
            AND aggregate_id = '{}' AND payload ->> 'hard' = 'true' AND NOT payload ? 'user_id'",
        to_api(old)
    );
    assert_eq!(env.count(ServiceName::Content, &hard).await?, 1, "one hard event, naming nobody");
    let audited = "SELECT count(*) AS n FROM audit_logs WHERE action = 'PURGE' AND entity = 'generated_content'";
    assert_eq!(env.count(ServiceName::Content, audited).await?, 1);

    // Content's relay takes the hard event to progress, which lets go.
    let mut left = -1;
    for _ in 0..100 {
        left = env.count(ServiceName::Progress, &references(old)).await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "progress holds no reference to the purged item");
    assert_eq!(env.count(ServiceName::Progress, &references(recent)).await?, 3, "the restorable one is untouched");
    assert!(content::purge::purge_expired(&mut db).await?.is_empty(), "a second run finds nothing");
    Ok(())
}
