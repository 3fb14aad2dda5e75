//! Billing on real PostgreSQL: the service started alone on its own fresh
//! database with the seeded catalogue, called directly with signed
//! principals (content's service principal for the internal methods, a
//! user's for the public ones). The quota race, replay by key, refunds,
//! rollover by date, plans without a feature and usage that equals the rows.

use jazz_e2e::TestUser as User;
use jazz_e2e::reason;
use std::collections::HashMap;

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::billing::v1::{
    CancelSubscriptionRequest, ConsumeQuotaRequest, ConsumeQuotaResponse, EntitlementKind, GetSubscriptionRequest,
    GetUsageRequest, GetUserSubscriptionRequest, HandleUserCreatedRequest, ListAuditLogsRequest, ListPlansRequest,
    RefundQuotaRequest, ResumeSubscriptionRequest,
};
use jazz_contract::jazz::common::v1::{SubscriptionStatus, SubscriptionTier};
use jazz_e2e::{LoneService, service_config};
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

/// Billing alone, on its own database, with the catalogue loaded.
struct Billing {
    db: TestDatabase,
    service: LoneService,
    key: PrincipalKey,
}

impl Billing {
    async fn start() -> anyhow::Result<Self> {
        let db = TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS).await?;
        let peers = jazz_e2e::no_peers();
        let mut config = service_config(ServiceName::Billing, &db.url, peers);
        // Enough connections that concurrent consumers really contend on
        // the row lock rather than queue for the pool.
        config.database.max_connections = 12;
        let pool = jazz_platform::db::pool(&config.database)?;
        billing::seed::load(pool, jazz_e2e::SEEDS_DIR.into()).await?;
        let service = LoneService::serve(billing::build(config).await?).await?;
        Ok(Self { db, service, key: jazz_e2e::test_principal_key() })
    }

    fn internal(&self) -> BillingInternalServiceClient<Channel> {
        BillingInternalServiceClient::new(self.service.channel.clone())
    }

    fn public(&self) -> BillingServiceClient<Channel> {
        BillingServiceClient::new(self.service.channel.clone())
    }

    /// `message` signed as the content service.
    fn as_service<T>(&self, message: T) -> Request<T> {
        jazz_e2e::as_service("content", message)
    }

    /// `message` signed as `user`.
    fn as_user<T>(&self, user: &User, message: T) -> Request<T> {
        user.signed(message)
    }

    async fn sql(&self) -> anyhow::Result<AsyncPgConnection> {
        self.db.connect().await
    }

    /// Sets FREE's monthly limit of `feature` in the stored catalogue.
    async fn set_free_limit(&self, feature: &str, limit: i64) -> anyhow::Result<()> {
        diesel::sql_query(
            "UPDATE plans SET entitlements = jsonb_set(entitlements, ARRAY[$1], to_jsonb($2)) WHERE tier = 'FREE'",
        )
        .bind::<Text, _>(feature)
        .bind::<BigInt, _>(limit)
        .execute(&mut self.sql().await?)
        .await?;
        jazz_e2e::await_free_limit(&self.service.channel, feature, Some(limit)).await
    }

    async fn consume(
        &self,
        user: &User,
        feature: &str,
        quantity: i64,
        key: &str,
    ) -> Result<ConsumeQuotaResponse, Status> {
        let request =
            ConsumeQuotaRequest { user_id: user.api(), feature: feature.into(), quantity, idempotency_key: key.into() };
        self.internal().consume_quota(self.as_service(request)).await.map(tonic::Response::into_inner)
    }

    /// One number from SQL about `user` (`$1`).
    async fn count(&self, query: &str, user: &User) -> anyhow::Result<i64> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let row: Row = diesel::sql_query(query)
            .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
            .get_result(&mut self.sql().await?)
            .await?;
        Ok(row.n)
    }

    async fn usage_rows(&self, user: &User) -> anyhow::Result<i64> {
        self.count(
            "SELECT count(*) AS n FROM usage_records u JOIN subscriptions s ON s.id = u.subscription_id \
             WHERE s.user_id = $1",
            user,
        )
        .await
    }
}

async fn race(billing: &Billing, limit: i64) -> anyhow::Result<()> {
    billing.set_free_limit("ai_generation", limit).await?;
    let user = User::new();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..50 {
        let mut client = billing.internal();
        let request = billing.as_service(ConsumeQuotaRequest {
            user_id: user.api(),
            feature: "ai_generation".into(),
            quantity: 1,
            idempotency_key: format!("race-{limit}-{i}"),
        });
        calls.spawn(async move { client.consume_quota(request).await });
    }
    let (mut granted, mut refused) = (0, 0);
    while let Some(result) = calls.join_next().await {
        match result? {
            Ok(_) => granted += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((granted, refused), (limit, 50 - limit), "limit {limit}");
    assert_eq!(billing.usage_rows(&user).await?, limit);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_consumers_get_exactly_the_limit() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    for limit in [1, 10, 20] {
        race(&billing, limit).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_consumes_once_and_answers_the_same() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let first = billing.consume(&user, "ai_generation", 2, "gen-1").await?;
    let again = billing.consume(&user, "ai_generation", 2, "gen-1").await?;
    assert!(first.granted && !first.replayed && again.replayed);
    assert_eq!((again.usage_record_id.as_str(), again.remaining), (first.usage_record_id.as_str(), 18));
    // A later grant moves `remaining`, but the replay still says what the
    // first answer said.
    billing.consume(&user, "ai_generation", 1, "gen-2").await?;
    let replay = billing.consume(&user, "ai_generation", 2, "gen-1").await?;
    assert_eq!(replay.remaining, 18);
    assert_eq!(billing.usage_rows(&user).await?, 2);

    let reused = billing.consume(&user, "ai_generation", 3, "gen-1").await.err();
    assert_eq!(reused.as_ref().map(Status::code), Some(Code::InvalidArgument));
    assert_eq!(billing.usage_rows(&user).await?, 2);
    let audited = billing
        .count("SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action = 'QUOTA_CONSUME'", &user)
        .await?;
    assert_eq!(audited, 2, "one audit entry per grant, none for replays");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_answers_resource_exhausted_with_quota_failure() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    billing.set_free_limit("transpose", 3).await?;
    let user = User::new();
    billing.consume(&user, "transpose", 3, "t-1").await?;
    let status = billing.consume(&user, "transpose", 1, "t-2").await.err();
    let status = status.ok_or_else(|| anyhow::anyhow!("granted over the limit"))?;
    assert_eq!(status.code(), Code::ResourceExhausted);
    let violation = status.get_details_quota_failure().and_then(|q| q.violations.into_iter().next());
    assert_eq!(violation.as_ref().map(|v| v.subject.clone()), Some(format!("user:{}", user.api())));
    assert!(violation.is_some_and(|v| v.description.contains("transpose") && v.description.contains('3')));
    let info = status.get_details_error_info();
    assert_eq!(info.as_ref().map(|i| i.reason.as_str()), Some("QUOTA_EXCEEDED"));
    let metadata = info.map(|i| i.metadata).unwrap_or_default();
    assert_eq!((metadata.get("limit"), metadata.get("used")), (Some(&"3".to_owned()), Some(&"3".to_owned())));
    assert_eq!(billing.usage_rows(&user).await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_the_plan_lacks_is_refused_and_nothing_is_written() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    // FREE has no audio_export in seeds/billing/plans.json.
    let status = billing.consume(&user, "audio_export", 1, "export-1").await.err();
    let status = status.ok_or_else(|| anyhow::anyhow!("granted a feature FREE lacks"))?;
    // Not a quota to wait out: FAILED_PRECONDITION with ErrorInfo PLAN_REQUIRED.
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(reason(&status).as_deref(), Some("PLAN_REQUIRED"));
    let metadata = status.get_details_error_info().map(|i| i.metadata).unwrap_or_default();
    assert_eq!(metadata.get("tier").map(String::as_str), Some("FREE"));
    assert_eq!(billing.usage_rows(&user).await?, 0);

    // On PRO the same call is granted.
    billing.consume(&user, "ai_generation", 1, "first-use").await?;
    diesel::sql_query("UPDATE subscriptions SET tier = 'PRO' WHERE user_id = $1")
        .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
        .execute(&mut billing.sql().await?)
        .await?;
    let granted = billing.consume(&user, "audio_export", 1, "export-1").await?;
    assert_eq!((granted.granted, granted.remaining, granted.unlimited), (true, 199, false));
    // Canceled PRO falls back to FREE's entitlements.
    diesel::sql_query("UPDATE subscriptions SET status = 'CANCELED' WHERE user_id = $1")
        .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
        .execute(&mut billing.sql().await?)
        .await?;
    let status = billing.consume(&user, "audio_export", 1, "export-2").await.err();
    assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("PLAN_REQUIRED"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_of_an_earlier_period_does_not_count() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    billing.set_free_limit("ai_generation", 5).await?;
    let user = User::new();
    billing.consume(&user, "ai_generation", 1, "now-1").await?;
    // Rows of last month (one microsecond before this UTC month began) and
    // one at this month's first instant, written straight into the table.
    diesel::sql_query(
        "INSERT INTO usage_records (id, subscription_id, feature, quantity, recorded_at, idempotency_key) \
         SELECT gen_random_uuid(), s.id, 'ai_generation', q, t, k FROM subscriptions s, (VALUES \
           (4, date_trunc('month', now(), 'UTC') - interval '1 microsecond', 'old-1'), \
           (1, date_trunc('month', now(), 'UTC') - interval '20 days', 'old-2'), \
           (2, date_trunc('month', now(), 'UTC'), 'boundary')) AS v(q, t, k) \
         WHERE s.user_id = $1",
    )
    .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
    .execute(&mut billing.sql().await?)
    .await?;
    let usage = billing.public().get_usage(billing.as_user(&user, GetUsageRequest {})).await?.into_inner();
    let ai = usage.features.iter().find(|f| f.feature == "ai_generation");
    assert_eq!(ai.map(|f| (f.used, f.limit, f.remaining)), Some((3, 5, 2)));
    let start = usage.period_start.map(|t| t.seconds).unwrap_or_default();
    let end = usage.period_end.map(|t| t.seconds).unwrap_or_default();
    let month = billing
        .count("SELECT extract(epoch FROM date_trunc('month', now(), 'UTC'))::bigint AS n WHERE $1 IS NOT NULL", &user)
        .await?;
    assert_eq!(start, month);
    assert!((28 * 86_400..=31 * 86_400).contains(&(end - start)));

    // Two more fit this month; last month's five units are not in the way.
    billing.consume(&user, "ai_generation", 2, "now-2").await?;
    let spent = billing.consume(&user, "ai_generation", 1, "now-3").await.err();
    assert_eq!(spent.map(|s| s.code()), Some(Code::ResourceExhausted));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_usage_equals_the_rows_written() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.consume(&user, "ai_generation", 3, "a").await?;
    billing.consume(&user, "ai_generation", 4, "b").await?;
    billing.consume(&user, "transpose", 2, "c").await?;
    billing.consume(&user, "saved_collections", 1, "d").await?;
    billing
        .internal()
        .refund_quota(billing.as_service(RefundQuotaRequest { user_id: user.api(), idempotency_key: "b".into() }))
        .await?;

    let usage = billing.public().get_usage(billing.as_user(&user, GetUsageRequest {})).await?.into_inner();
    assert_eq!(usage.effective_tier, SubscriptionTier::Free as i32);
    let names: Vec<_> = usage.features.iter().map(|f| f.feature.as_str()).collect();
    assert_eq!(names, ["ai_generation", "audio_export", "saved_collections", "transpose"]);
    for feature in &usage.features {
        #[derive(diesel::QueryableByName)]
        struct Sum {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let rows: Sum = diesel::sql_query(
            "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM usage_records u JOIN subscriptions s \
             ON s.id = u.subscription_id WHERE s.user_id = $1 AND u.feature = $2 AND u.refunded_at IS NULL",
        )
        .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
        .bind::<Text, _>(&feature.feature)
        .get_result(&mut billing.sql().await?)
        .await?;
        assert_eq!(feature.used, rows.n, "{}", feature.feature);
    }
    let by_name: HashMap<_, _> = usage.features.iter().map(|f| (f.feature.as_str(), f)).collect();
    assert_eq!(by_name.get("ai_generation").map(|f| (f.used, f.remaining)), Some((3, 17)));
    assert_eq!(by_name.get("audio_export").map(|f| f.kind), Some(EntitlementKind::NotIncluded as i32));
    assert_eq!(by_name.get("saved_collections").map(|f| (f.used, f.limit, f.remaining)), Some((1, 3, 2)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_gives_the_units_back_once() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    billing.set_free_limit("ai_generation", 2).await?;
    let user = User::new();
    billing.consume(&user, "ai_generation", 1, "job-1").await?;
    billing.consume(&user, "ai_generation", 1, "job-2").await?;
    assert!(billing.consume(&user, "ai_generation", 1, "job-3").await.is_err());

    let refund = || RefundQuotaRequest { user_id: user.api(), idempotency_key: "job-2".into() };
    let first = billing.internal().refund_quota(billing.as_service(refund())).await?.into_inner();
    let second = billing.internal().refund_quota(billing.as_service(refund())).await?.into_inner();
    assert_eq!((first.refunded, first.quantity), (true, 1));
    assert_eq!((second.refunded, second.quantity), (false, 1));

    let granted = billing.consume(&user, "ai_generation", 1, "job-3").await?;
    assert_eq!((granted.remaining, granted.replayed), (0, false));
    assert!(billing.consume(&user, "ai_generation", 1, "job-4").await.is_err());

    // A refunded key used again is consumed afresh (when it fits).
    let job3 = RefundQuotaRequest { user_id: user.api(), idempotency_key: "job-3".into() };
    billing.internal().refund_quota(billing.as_service(job3)).await?;
    let afresh = billing.consume(&user, "ai_generation", 1, "job-2").await?;
    assert_eq!((afresh.replayed, afresh.remaining), (false, 0));
    assert_eq!(billing.usage_rows(&user).await?, 3);
    let unknown = RefundQuotaRequest { user_id: user.api(), idempotency_key: "never".into() };
    let status = billing.internal().refund_quota(billing.as_service(unknown)).await.err();
    assert_eq!(status.map(|s| s.code()), Some(Code::NotFound));
    let refunds = billing
        .count("SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action = 'QUOTA_REFUND'", &user)
        .await?;
    assert_eq!(refunds, 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_name_the_field_and_write_nothing() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let long_key = "k".repeat(129);
    let cases: [(&str, &str, i64, &str, &str); 8] = [
        ("", "ai_generation", 1, "k", "user_id"),
        ("not-a-ulid", "ai_generation", 1, "k", "user_id"),
        ("USER", "", 1, "k", "feature"),
        ("USER", "no_such_feature", 1, "k", "feature"),
        ("USER", "ai_generation", 0, "k", "quantity"),
        ("USER", "ai_generation", 1001, "k", "quantity"),
        ("USER", "ai_generation", 1, "", "idempotency_key"),
        ("USER", "ai_generation", 1, &long_key, "idempotency_key"),
    ];
    for (user_id, feature, quantity, key, field) in cases {
        let user_id = if user_id == "USER" { user.api() } else { user_id.to_owned() };
        let request = ConsumeQuotaRequest { user_id, feature: feature.into(), quantity, idempotency_key: key.into() };
        let status = billing.internal().consume_quota(billing.as_service(request)).await.err();
        let status = status.ok_or_else(|| anyhow::anyhow!("accepted a bad {field}"))?;
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert_eq!(jazz_e2e::bad_fields(&status), [field]);
    }
    assert_eq!(billing.usage_rows(&user).await?, 0);
    assert_eq!(billing.count("SELECT count(*) AS n FROM subscriptions WHERE user_id = $1", &user).await?, 0);
    assert_eq!(billing.count("SELECT count(*) AS n FROM audit_logs WHERE user_id = $1", &user).await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cannot_call_internal_methods() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let request = ConsumeQuotaRequest {
        user_id: user.api(),
        feature: "ai_generation".into(),
        quantity: 1,
        idempotency_key: "k".into(),
    };
    let status = billing.internal().consume_quota(billing.as_user(&user, request)).await.err();
    assert_eq!(status.map(|s| s.code()), Some(Code::PermissionDenied));
    let refund = RefundQuotaRequest { user_id: user.api(), idempotency_key: "k".into() };
    let status = billing.internal().refund_quota(billing.as_user(&user, refund)).await.err();
    assert_eq!(status.map(|s| s.code()), Some(Code::PermissionDenied));
    // And public methods need a user.
    let status = billing.public().get_usage(billing.as_service(GetUsageRequest {})).await.err();
    assert_eq!(status.map(|s| s.code()), Some(Code::Unauthenticated));
    assert_eq!(billing.usage_rows(&user).await?, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_plans_shows_the_seeded_catalogue() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let mut request = Request::new(ListPlansRequest { page_size: 0, page_token: String::new() });
    billing.key.attach(&mut request, &Principal::anonymous("req-plans"));
    let plans = billing.public().list_plans(request).await?.into_inner();
    let tiers: Vec<_> = plans.plans.iter().map(|p| p.tier).collect();
    assert_eq!(tiers, [SubscriptionTier::Free as i32, SubscriptionTier::Pro as i32, SubscriptionTier::Educator as i32]);
    assert!(plans.next_page_token.is_empty());
    let limit = |tier: usize, feature: &str| {
        plans
            .plans
            .get(tier)
            .and_then(|p| p.entitlements.iter().find(|e| e.feature == feature))
            .map(|e| (e.kind, e.limit))
    };
    assert_eq!(limit(0, "ai_generation"), Some((EntitlementKind::Limited as i32, 20)));
    assert_eq!(limit(0, "audio_export"), Some((EntitlementKind::NotIncluded as i32, 0)));
    assert_eq!(limit(1, "transpose"), Some((EntitlementKind::Unlimited as i32, 0)));
    assert_eq!(limit(2, "ai_generation"), Some((EntitlementKind::Limited as i32, 2000)));
    let pro = plans.plans.get(1).and_then(|p| p.price.clone()).unwrap_or_default();
    assert_eq!((pro.amount_minor, pro.currency.as_str()), (999, "USD"));
    assert_eq!(pro.stripe_price_id, "price_jazzmaster_pro_monthly");
    assert!(plans.plans.iter().all(|p| p.entitlements.len() == 4));

    // Pages of one, then a tampered token.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut request = Request::new(ListPlansRequest { page_size: 1, page_token: token.clone() });
        billing.key.attach(&mut request, &Principal::anonymous("req-plans"));
        let page = billing.public().list_plans(request).await?.into_inner();
        seen.extend(page.plans.iter().map(|p| p.tier));
        token = page.next_page_token;
        if token.is_empty() || seen.len() > 3 {
            break;
        }
    }
    assert_eq!(seen, tiers);
    let mut request = Request::new(ListPlansRequest { page_size: 1, page_token: "7a7a".into() });
    billing.key.attach(&mut request, &Principal::anonymous("req-plans"));
    let status = billing.public().list_plans(request).await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument));
    assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("INVALID_PAGE_TOKEN"));
    // Forged (the unsigned hex of a position, which billing once accepted)
    // and tampered (a real token with its position swapped) are refused,
    // naming the field.
    let mut request = Request::new(ListPlansRequest { page_size: 1, page_token: String::new() });
    billing.key.attach(&mut request, &Principal::anonymous("req-plans"));
    let real = billing.public().list_plans(request).await?.into_inner().next_page_token;
    let (_, signature) = real.split_once('.').unwrap_or_default();
    let swapped = format!("{}.{signature}", "EDUCATOR".bytes().map(|b| format!("{b:02x}")).collect::<String>());
    let forged: String = "plans||PRO".bytes().map(|b| format!("{b:02x}")).collect();
    for bad in [forged, swapped, format!("{real}x")] {
        let mut request = Request::new(ListPlansRequest { page_size: 1, page_token: bad.clone() });
        billing.key.attach(&mut request, &Principal::anonymous("req-plans"));
        let status = billing.public().list_plans(request).await.err();
        assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument), "{bad}");
        assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("INVALID_PAGE_TOKEN"));
        let fields = status.and_then(|s| s.get_details_bad_request()).map(|b| b.field_violations);
        assert_eq!(fields.unwrap_or_default().into_iter().next().map(|v| v.field).as_deref(), Some("page_token"));
    }
    Ok(())
}

/// The catalogue billing keeps in memory follows every change to `plans`:
/// through its listener, and also while that listener's connection is cut
/// and after it has subscribed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kept_catalogue_follows_changes_to_plans() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    jazz_e2e::await_free_limit(&billing.service.channel, "ai_generation", Some(20)).await?;
    billing.set_free_limit("ai_generation", 7).await?;

    let listener =
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN plans_changed'";
    let terminated = jazz_e2e::sql::number(
        &mut billing.sql().await?,
        &format!("SELECT count(pg_terminate_backend(pid)) AS n FROM ({listener}) AS l"),
    )
    .await?;
    assert_eq!(terminated, 1, "one listener per billing process");
    billing.set_free_limit("ai_generation", 9).await?;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let count = format!("SELECT count(*) AS n FROM ({listener}) AS l");
    while jazz_e2e::sql::number(&mut billing.sql().await?, &count).await? != 1 {
        anyhow::ensure!(std::time::Instant::now() < deadline, "the listener never subscribed again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    billing.set_free_limit("ai_generation", 11).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_made_free_and_paid_ones_cancel_at_period_end() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let lookup = GetUserSubscriptionRequest { user_id: user.api() };
    let missing = billing.internal().get_user_subscription(billing.as_service(lookup.clone())).await.err();
    assert_eq!(missing.map(|s| s.code()), Some(Code::NotFound));

    let event = HandleUserCreatedRequest {
        event_id: to_api(new_id()),
        user_id: user.api(),
        created_at: Some(prost_types::Timestamp { seconds: 1_700_000_000, nanos: 0 }),
        ..Default::default()
    };
    let first = billing.internal().handle_user_created(billing.as_service(event.clone())).await?.into_inner();
    let again = billing.internal().handle_user_created(billing.as_service(event)).await?.into_inner();
    assert_eq!((first.duplicate, again.duplicate), (false, true));

    let sub = billing.public().get_subscription(billing.as_user(&user, GetSubscriptionRequest {})).await?.into_inner();
    let sub = sub.subscription.unwrap_or_default();
    assert_eq!((sub.tier, sub.status), (SubscriptionTier::Free as i32, SubscriptionStatus::Active as i32));
    assert_eq!(sub.effective_tier, SubscriptionTier::Free as i32);
    assert_eq!(sub.created_at.map(|t| t.seconds), Some(1_700_000_000));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let now = i64::try_from(now)?;
    let (start, end) = (sub.current_period_start.unwrap_or_default(), sub.current_period_end.unwrap_or_default());
    assert!(start.seconds <= now && now < end.seconds, "the current calendar month");
    let internal = billing.internal().get_user_subscription(billing.as_service(lookup)).await?.into_inner();
    assert_eq!(internal.subscription.map(|s| s.id), Some(sub.id.clone()));

    let status = billing.public().cancel_subscription(billing.as_user(&user, CancelSubscriptionRequest {})).await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::FailedPrecondition));
    assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("NO_PAID_SUBSCRIPTION"));

    diesel::sql_query(
        "UPDATE subscriptions SET tier = 'PRO', stripe_price_id = 'price_jazzmaster_pro_monthly' WHERE user_id = $1",
    )
    .bind::<Nullable<SqlUuid>, _>(user.0.user_id)
    .execute(&mut billing.sql().await?)
    .await?;
    for _ in 0..2 {
        let canceled =
            billing.public().cancel_subscription(billing.as_user(&user, CancelSubscriptionRequest {})).await?;
        let canceled = canceled.into_inner().subscription.unwrap_or_default();
        assert!(canceled.cancel_at_period_end && canceled.canceled_at.is_some());
        assert_eq!(canceled.effective_tier, SubscriptionTier::Pro as i32);
    }
    let resumed = billing.public().resume_subscription(billing.as_user(&user, ResumeSubscriptionRequest {})).await?;
    assert!(!resumed.into_inner().subscription.unwrap_or_default().cancel_at_period_end);

    let audit = ListAuditLogsRequest { user_id: user.api(), page_size: 2, ..Default::default() };
    let page = billing.internal().list_audit_logs(billing.as_service(audit.clone())).await?.into_inner();
    let actions: Vec<_> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["RESUME", "CANCEL"]);
    let rest = ListAuditLogsRequest { page_token: page.next_page_token, ..audit };
    let page = billing.internal().list_audit_logs(billing.as_service(rest)).await?.into_inner();
    let actions: Vec<_> = page.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["CREATE"]);
    assert!(page.next_page_token.is_empty());
    Ok(())
}
