//! OutboxAdminService: one service's dead and lagging events listed, oldest
//! first; chosen ones (or every dead one) re-driven with an audit entry in
//! the same transaction, and delivered once by the service's own relay.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::common::v1 as pb;
use jazz_contract::jazz::common::v1::outbox_admin_service_client::OutboxAdminServiceClient;
use jazz_e2e::{LoneService, TestUser, as_service, bad_fields, identity_options, no_peers, service_config};
use jazz_platform::ServiceName;
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::testing::TestDatabase;
use tonic::Code;
use uuid::Uuid;

#[derive(diesel::QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn number(conn: &mut AsyncPgConnection, sql: &str, id: Uuid) -> anyhow::Result<i64> {
    let row: Number = diesel::sql_query(sql).bind::<diesel::sql_types::Uuid, _>(id).get_result(conn).await?;
    Ok(row.n)
}

/// Writes an event as a relay would have left it: `status`, `attempts`,
/// written `age_secs` ago, next try in an hour, leased for an hour or not.
async fn event(
    conn: &mut AsyncPgConnection,
    status: &str,
    attempts: i32,
    age_secs: i32,
    leased: bool,
) -> anyhow::Result<Uuid> {
    let id = new_id();
    diesel::sql_query(
        "INSERT INTO outbox_events (id, event_type, aggregate_id, payload, status, attempts, next_attempt_at, \
                                    last_error, created_at, delivered_at, leased_until) \
         VALUES ($1, 'test.event', 'a', '{}', $2, $3, now() + interval '1 hour', \
                 CASE WHEN $3 > 0 THEN 'receiver: UNAVAILABLE' END, now() - make_interval(secs => $4), \
                 CASE WHEN $2 = 'delivered' THEN now() END, CASE WHEN $5 THEN now() + interval '1 hour' END)",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<Text, _>(status)
    .bind::<diesel::sql_types::Integer, _>(attempts)
    .bind::<diesel::sql_types::Integer, _>(age_secs)
    .bind::<diesel::sql_types::Bool, _>(leased)
    .execute(conn)
    .await?;
    Ok(id)
}

async fn identity_on(db: &TestDatabase) -> anyhow::Result<LoneService> {
    let oidc = jazz_e2e::oidc::OidcStandIn::start().await?;
    let config = service_config(ServiceName::Identity, &db.url, no_peers());
    let mailer = Arc::new(identity::mail::MemoryMailer::new());
    let mut service =
        LoneService::serve(identity::build_with_options(config, mailer, identity_options(&oidc)?).await?).await?;
    service.keep(oidc);
    Ok(service)
}

fn list(state: pb::OutboxEventState, page_size: i32, page_token: &str) -> tonic::Request<pb::ListOutboxEventsRequest> {
    as_service("ops", pb::ListOutboxEventsRequest { state: state.into(), page_size, page_token: page_token.to_owned() })
}

fn ids(events: &[pb::OutboxEvent]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_and_lagging_events_are_listed_and_a_redriven_event_is_delivered_once() -> anyhow::Result<()> {
    let db = TestDatabase::migrated(ServiceName::Identity, identity::MIGRATIONS).await?;
    let mut conn = db.connect().await?;
    let dead = event(&mut conn, "dead", 1, 180, false).await?;
    let failed = event(&mut conn, "pending", 2, 120, false).await?;
    let leased = event(&mut conn, "pending", 0, 90, true).await?;
    let _fresh = event(&mut conn, "pending", 0, 0, false).await?;
    let delivered = event(&mut conn, "delivered", 1, 200, false).await?;
    let identity = identity_on(&db).await?;
    let mut admin = OutboxAdminServiceClient::new(identity.channel.clone());

    let only_dead = admin.list_outbox_events(list(pb::OutboxEventState::Dead, 0, "")).await?.into_inner();
    assert_eq!(ids(&only_dead.events), [to_api(dead)]);
    let first = &only_dead.events[0];
    assert_eq!((first.state(), first.attempts, first.next_attempt_at.is_none()), (pb::OutboxEventState::Dead, 1, true));
    assert_eq!(first.last_error, "receiver: UNAVAILABLE");
    let lagging = admin.list_outbox_events(list(pb::OutboxEventState::Lagging, 0, "")).await?.into_inner();
    assert_eq!(ids(&lagging.events), [to_api(failed), to_api(leased)], "failed, or older than a minute; oldest first");
    assert!(lagging.events[1].leased_until.is_some() && lagging.events[0].leased_until.is_none(), "the lease shows");

    // Both states, a page at a time; a token is bound to its filter.
    let page = admin.list_outbox_events(list(pb::OutboxEventState::Unspecified, 2, "")).await?.into_inner();
    assert_eq!(ids(&page.events), [to_api(dead), to_api(failed)]);
    let rest =
        admin.list_outbox_events(list(pb::OutboxEventState::Unspecified, 2, &page.next_page_token)).await?.into_inner();
    assert_eq!((ids(&rest.events), rest.next_page_token.as_str()), (vec![to_api(leased)], ""));
    let foreign = admin.list_outbox_events(list(pb::OutboxEventState::Dead, 2, &page.next_page_token)).await;
    let refused = foreign.err().map(|s| (s.code(), bad_fields(&s)));
    assert_eq!(refused, Some((Code::InvalidArgument, vec!["page_token".to_owned()])));

    // Learners cannot call it.
    let user = TestUser::new();
    let denied = admin.list_outbox_events(user.signed(pb::ListOutboxEventsRequest::default())).await;
    assert_eq!(denied.err().map(|s| s.code()), Some(Code::PermissionDenied));

    // Bad input names the field and changes nothing.
    let bad = admin
        .redrive_outbox_events(as_service(
            "ops",
            pb::RedriveOutboxEventsRequest { event_ids: vec![to_api(dead), "nope".into()], all_dead: false },
        ))
        .await;
    assert_eq!(
        bad.err().map(|s| (s.code(), bad_fields(&s))),
        Some((Code::InvalidArgument, vec!["event_ids[1]".into()]))
    );
    let status_of = "SELECT count(*) AS n FROM outbox_events WHERE id = $1 AND status = 'dead'";
    assert_eq!(number(&mut conn, status_of, dead).await?, 1);

    // The dead and the failed one are made due; the leased and the
    // delivered one are left alone.
    let chosen = [dead, failed, leased, delivered].map(to_api).to_vec();
    let redriven = admin
        .redrive_outbox_events(as_service("ops", pb::RedriveOutboxEventsRequest { event_ids: chosen, all_dead: false }))
        .await?
        .into_inner();
    let mut expected = [dead, failed];
    expected.sort();
    assert_eq!(redriven.event_ids, expected.iter().copied().map(to_api).collect::<Vec<_>>());
    let audited: Number = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'REDRIVE' AND entity = 'outbox_events' \
            AND jsonb_array_length(new_data -> 'event_ids') = 2 AND metadata ->> 'service' = 'ops'",
    )
    .get_result(&mut conn)
    .await?;
    assert_eq!(audited.n, 1, "one audit entry, naming both");

    // Identity's own relay (every 100 ms in tests) delivers each once.
    let delivered_once = "SELECT count(*) AS n FROM outbox_events WHERE id = $1 AND status = 'delivered'";
    for _ in 0..100 {
        if number(&mut conn, delivered_once, dead).await? + number(&mut conn, delivered_once, failed).await? == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let attempts = "SELECT attempts::bigint AS n FROM outbox_events WHERE id = $1";
    assert_eq!((number(&mut conn, attempts, dead).await?, number(&mut conn, attempts, failed).await?), (2, 3));
    // A re-drive of a delivered event changes nothing, and nothing is
    // delivered again.
    let again = admin
        .redrive_outbox_events(as_service(
            "ops",
            pb::RedriveOutboxEventsRequest { event_ids: vec![to_api(dead)], all_dead: false },
        ))
        .await?
        .into_inner();
    assert!(again.event_ids.is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(number(&mut conn, attempts, dead).await?, 2, "delivered once");
    assert_eq!(
        number(&mut conn, "SELECT count(*) AS n FROM outbox_events WHERE id = $1 AND status = 'pending'", leased)
            .await?,
        1
    );

    // Every dead event at once.
    let more = [event(&mut conn, "dead", 1, 30, false).await?, event(&mut conn, "dead", 4, 20, false).await?];
    let all = admin
        .redrive_outbox_events(as_service("ops", pb::RedriveOutboxEventsRequest { event_ids: vec![], all_dead: true }))
        .await?
        .into_inner();
    let mut more = more.to_vec();
    more.sort();
    assert_eq!((all.event_ids, all.more_dead), (more.into_iter().map(to_api).collect::<Vec<_>>(), false));
    Ok(())
}
