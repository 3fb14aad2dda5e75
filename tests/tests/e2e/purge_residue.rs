//! Issue 13's last promise, end to end: a learner who used every service
//! (signed up and verified, subscribed through the Stripe stand-in with a
//! signed webhook, generated, saved, liked and viewed content, practised
//! and recorded progress) deletes their account; past the retention window
//! identity's purge job erases them and its relay takes `user_purged` to
//! billing, content and progress. Afterwards `jazz_platform::residue::find`
//! over all four databases finds no row holding the user's id (uuid and
//! ULID forms) or email, outside each service's documented kept list
//! (each service's `RESIDUE_KEPT`; docs/reliability.md).

use std::time::Duration;

use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl as _};
use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_contract::jazz::common::v1::{Difficulty, SubscriptionTier};
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_e2e::stripe::{ORIGIN, WEBHOOK_SECRET, event, seconds, signature, subscription};
use jazz_e2e::{Suite, bearer, lick_request};
use jazz_platform::ServiceName;
use jazz_platform::ids::to_api;
use jazz_platform::residue::{Kept, Residue, find};
use uuid::Uuid;

const EMAIL: &str = "purged.learner@example.com";

/// What each service keeps on purpose although it mentions the purged
/// user: each service's `RESIDUE_KEPT` (explained there and in
/// docs/reliability.md), the list its admin check will use.
fn kept(service: ServiceName) -> &'static [Kept] {
    match service {
        ServiceName::Identity => identity::RESIDUE_KEPT,
        ServiceName::Billing => billing::RESIDUE_KEPT,
        ServiceName::Content => content::RESIDUE_KEPT,
        ServiceName::Progress => progress::RESIDUE_KEPT,
        ServiceName::Gateway => &[],
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

async fn sql(suite: &Suite, service: ServiceName) -> anyhow::Result<AsyncPgConnection> {
    let db = suite.databases.iter().find(|(s, _)| *s == service).map(|(_, d)| d);
    db.ok_or_else(|| anyhow::anyhow!("no database for {service:?}"))?.connect().await
}

async fn count(suite: &Suite, service: ServiceName, query: &str) -> anyhow::Result<i64> {
    let row: Count = diesel::sql_query(query).get_result(&mut sql(suite, service).await?).await?;
    Ok(row.n)
}

/// Waits until no outbox of the four services has a pending event.
async fn relays_drained(suite: &Suite) -> anyhow::Result<()> {
    let pending = "SELECT count(*) AS n FROM outbox_events WHERE status = 'pending'";
    for _ in 0..200 {
        let mut left = 0;
        for service in ServiceName::DATA_SERVICES {
            left += count(suite, service, pending).await?;
        }
        if left == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the relays did not drain")
}

/// `residue::find` over all four databases: each residue with its service.
async fn scan(suite: &Suite, values: &[String]) -> anyhow::Result<Vec<(ServiceName, Residue)>> {
    let mut found = Vec::new();
    for service in ServiceName::DATA_SERVICES {
        let mut conn = sql(suite, service).await?;
        found.extend(find(&mut conn, values, kept(service)).await?.into_iter().map(|r| (service, r)));
    }
    Ok(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_purge_no_database_holds_the_users_id_or_email() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let token = suite.learner(EMAIL).await?;
    let bystander = suite.learner("bystander@example.com").await?;
    let gateway = suite.gateway_channel().await?;
    let user: Id = diesel::sql_query("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind::<Text, _>(EMAIL)
        .get_result(&mut sql(&suite, ServiceName::Identity).await?)
        .await?;
    let user = user.id;

    // Billing: a checkout at Stripe, then the signed webhook linking the
    // live PRO subscription to the user.
    let mut billing = billing_pb::billing_service_client::BillingServiceClient::new(gateway.clone());
    let checkout = billing_pb::StartCheckoutRequest {
        tier: SubscriptionTier::Pro as i32,
        success_url: format!("{ORIGIN}/billing/done"),
        cancel_url: format!("{ORIGIN}/billing/cancel"),
        request_id: "checkout-1".into(),
    };
    billing.start_checkout(bearer(checkout, &token)?).await?;
    let body = event(
        "evt_purged",
        "customer.subscription.created",
        seconds(),
        subscription("sub_purged", "cus_purged", &to_api(user), "price_jazzmaster_pro_monthly", "active", false),
    );
    let webhook = billing_pb::HandleStripeEventRequest {
        signature_header: signature(&body, WEBHOOK_SECRET, seconds())?,
        payload: body,
    };
    billing_pb::billing_internal_service_client::BillingInternalServiceClient::new(
        suite.service_channel(ServiceName::Billing).await?,
    )
    .handle_stripe_event(jazz_e2e::as_service("gateway", webhook))
    .await?;
    let live = billing.get_subscription(bearer(billing_pb::GetSubscriptionRequest {}, &token)?).await?.into_inner();
    assert_eq!(live.subscription.map(|s| s.tier), Some(SubscriptionTier::Pro as i32), "the webhook linked it");

    // Content: generated, shared, saved, liked and viewed (by the user and
    // by the bystander, whose rows about the item go with it).
    let mut content = content_pb::content_service_client::ContentServiceClient::new(gateway.clone());
    let item = content.generate_content(bearer(lick_request("Bb", 160, "lick-1"), &token)?).await?.into_inner();
    let item = item.content.ok_or_else(|| anyhow::anyhow!("no content"))?.id;
    let shared = content_pb::GeneratedContent { id: item.clone(), is_public: true, ..Default::default() };
    let mask = prost_types::FieldMask { paths: vec!["is_public".into()] };
    let update = content_pb::UpdateContentRequest { content: Some(shared), update_mask: Some(mask) };
    content.update_content(bearer(update, &token)?).await?;
    for who in [&token, &bystander] {
        let save = content_pb::SaveContentRequest {
            content_id: item.clone(),
            collection_name: "Bebop vocabulary".into(),
            // The user's own notes name them: the email in free text.
            notes: if who == &token { format!("ask {EMAIL} about the fingering") } else { String::new() },
            ..Default::default()
        };
        content.save_content(bearer(save, who)?).await?;
        content.like_content(bearer(content_pb::LikeContentRequest { id: item.clone() }, who)?).await?;
        content.record_view(bearer(content_pb::RecordViewRequest { id: item.clone() }, who)?).await?;
    }

    // Progress: a practice session with a record, then progress on the item.
    let mut practice = progress_pb::practice_service_client::PracticeServiceClient::new(gateway.clone());
    let start = progress_pb::StartPracticeSessionRequest {
        title: "Rhythm changes".into(),
        request_id: "start".into(),
        ..Default::default()
    };
    let session = practice.start_practice_session(bearer(start, &token)?).await?.into_inner().session;
    let session = session.ok_or_else(|| anyhow::anyhow!("no session"))?.id;
    let add = progress_pb::AddPracticeRecordRequest {
        practice_session_id: session.clone(),
        content_id: item.clone(),
        minutes: 10,
        performance: Some(80.0),
        request_id: "add-1".into(),
        ..Default::default()
    };
    practice.add_practice_record(bearer(add, &token)?).await?;
    let end = progress_pb::EndPracticeSessionRequest { id: session, rating: Some(4), ..Default::default() };
    practice.end_practice_session(bearer(end, &token)?).await?;
    let record = progress_pb::RecordProgressRequest {
        skill_area: "improvisation".into(),
        difficulty: Difficulty::Intermediate.into(),
        minutes: 10,
        content_id: item.clone(),
        request_id: "progress-1".into(),
        ..Default::default()
    };
    progress_pb::progress_service_client::ProgressServiceClient::new(gateway.clone())
        .record_progress(bearer(record, &token)?)
        .await?;
    relays_drained(&suite).await?;

    // Before: the user is everywhere (the scan finds them in each database).
    let values = [user.to_string(), to_api(user), EMAIL.to_owned()];
    let before = scan(&suite, &values).await?;
    for service in ServiceName::DATA_SERVICES {
        assert!(before.iter().any(|(s, _)| *s == service), "nothing of the user in {service:?}: {before:#?}");
    }

    // The admin check (IdentityAdminService.CheckErasure, fanning out to
    // each service's FindResidue) sees the same columns.
    let mut admin = identity_pb::identity_admin_service_client::IdentityAdminServiceClient::new(
        suite.service_channel(ServiceName::Identity).await?,
    );
    let check = identity_pb::CheckErasureRequest { user_id: to_api(user), email: EMAIL.to_owned() };
    let checked = admin.check_erasure(jazz_e2e::as_service("ops-tool", check.clone())).await?.into_inner().columns;
    let places = |found: &[(ServiceName, Residue)]| {
        let mut places: Vec<String> =
            found.iter().map(|(s, r)| format!("{}.{}.{}", s.as_str(), r.table, r.column)).collect();
        places.sort();
        places
    };
    let mut checked: Vec<String> = checked.iter().map(|c| format!("{}.{}.{}", c.service, c.table, c.column)).collect();
    checked.sort();
    assert_eq!(checked, places(&before));
    let bad = identity_pb::CheckErasureRequest { user_id: user.to_string(), email: String::new() };
    let refused = admin.check_erasure(jazz_e2e::as_service("ops-tool", bad)).await.err().map(|s| s.code());
    assert_eq!(refused, Some(tonic::Code::InvalidArgument), "the API's ids are ULIDs");

    // Deleted, pushed past the retention window, purged; the relays deliver.
    identity_pb::user_service_client::UserServiceClient::new(gateway.clone())
        .delete_me(bearer(identity_pb::DeleteMeRequest {}, &token)?)
        .await?;
    let mut identity_db = sql(&suite, ServiceName::Identity).await?;
    diesel::sql_query("UPDATE users SET deleted_at = now() - interval '31 days' WHERE id = $1")
        .bind::<SqlUuid, _>(user)
        .execute(&mut identity_db)
        .await?;
    assert_eq!(identity::purge::purge_expired(&mut identity_db).await?, [user]);
    relays_drained(&suite).await?;
    let undelivered = "SELECT count(*) AS n FROM outbox_events WHERE status <> 'delivered'";
    for service in ServiceName::DATA_SERVICES {
        assert_eq!(count(&suite, service, undelivered).await?, 0, "{service:?} has an undelivered event");
    }
    let canceled = suite.stripe.requests().into_iter().filter(|r| r.method == "DELETE").map(|r| r.path);
    assert_eq!(canceled.collect::<Vec<_>>(), ["/v1/subscriptions/sub_purged"], "canceled at Stripe");

    // After: nothing of the user in any database, outside the kept rows.
    let after = scan(&suite, &values).await?;
    assert_eq!(after, Vec::new(), "residue of the purged user");
    let checked = admin.check_erasure(jazz_e2e::as_service("ops-tool", check)).await?.into_inner().columns;
    assert_eq!(checked, Vec::new(), "the admin check finds nothing either");
    // The kept rows are the purge's own event, and only that.
    let own = "SELECT count(*) AS n FROM outbox_events WHERE event_type = 'identity.user_purged'";
    assert_eq!(count(&suite, ServiceName::Identity, own).await?, 1);
    // The scan still sees the bystander, who keeps their account and rows.
    let other = ["bystander@example.com".to_owned()];
    assert!(!scan(&suite, &other).await?.is_empty(), "the bystander is still there");
    Ok(())
}
