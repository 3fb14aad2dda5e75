//! The seed's system metrics and the tier billing reports (issue 12 parts
//! 5 and 6), on real PostgreSQL with every service running:
//! - RecordDailyMetrics asks identity, billing and content for a day's
//!   figures, adds progress's own, and a re-run replaces the day's points
//!   (never doubles); QueryMetrics reads raw points, dimension filters and
//!   day buckets; ListMetricNames pages through the names; bad values are
//!   refused with the field named; an owner that cannot answer leaves the
//!   day unwritten.
//! - A Stripe webhook through the gateway moves a learner to PRO; billing's
//!   `subscription_changed` reaches identity, and a tier-targeted flag
//!   evaluated through the gateway turns on, then off again on
//!   cancellation; stale and repeated events change nothing; billing's
//!   figures of the day count the upgrade and the cancellation.

use std::collections::BTreeMap;
use std::time::Duration;

use jazz_contract::jazz::common::v1::SubscriptionTier;
use jazz_contract::jazz::content::v1::content_service_client::ContentServiceClient;
use jazz_contract::jazz::identity::v1 as identity_pb;
use jazz_contract::jazz::identity::v1::feature_flag_service_client::FeatureFlagServiceClient;
use jazz_contract::jazz::identity::v1::identity_admin_service_client::IdentityAdminServiceClient;
use jazz_contract::jazz::identity::v1::identity_internal_service_client::IdentityInternalServiceClient;
use jazz_contract::jazz::identity::v1::user_service_client::UserServiceClient;
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::metrics_admin_service_client::MetricsAdminServiceClient;
use jazz_contract::jazz::progress::v1::practice_service_client::PracticeServiceClient;
use jazz_contract::jazz::progress::v1::{MetricAggregation, QueryMetricsRequest, RecordDailyMetricsRequest};
use jazz_e2e::stripe::{WEBHOOK_SECRET, event, seconds, signature, subscription};
use jazz_e2e::{Suite, TestUser, as_service, bad_fields, bearer, lick_request};
use jazz_platform::ServiceName;
use prost_types::Timestamp;
use tonic::Code;
use tonic::transport::Channel;

const DAY: i64 = 86_400;
const PRO_PRICE: &str = "price_jazzmaster_pro_monthly";

fn ts(seconds: i64) -> Timestamp {
    Timestamp { seconds, nanos: 0 }
}

/// Today's midnight UTC, in seconds.
fn today() -> i64 {
    seconds().div_euclid(DAY) * DAY
}

/// "YYYY-MM-DD" of the UTC day starting at `midnight`.
fn date(midnight: i64) -> String {
    chrono::DateTime::from_timestamp(midnight, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

async fn metrics(suite: &Suite) -> anyhow::Result<MetricsAdminServiceClient<Channel>> {
    Ok(MetricsAdminServiceClient::new(suite.service_channel(ServiceName::Progress).await?))
}

/// A point's dimensions as "k=v,…" (sorted), empty for a total.
fn dims_of(point: Option<&progress_pb::MetricPoint>) -> String {
    let Some(dims) = point.and_then(|p| p.dimensions.as_ref()) else { return String::new() };
    let mut pairs: Vec<String> = dims
        .fields
        .iter()
        .map(|(k, v)| match &v.kind {
            Some(prost_types::value::Kind::StringValue(s)) => format!("{k}={s}"),
            other => format!("{k}={other:?}"),
        })
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// A run's points as "name{dims}" → value.
fn keyed(response: &progress_pb::RecordDailyMetricsResponse) -> BTreeMap<String, f64> {
    response
        .points
        .iter()
        .map(|p| {
            let dims = dims_of(p.point.as_ref());
            let name = if dims.is_empty() { p.metric_name.clone() } else { format!("{}{{{dims}}}", p.metric_name) };
            (name, p.point.as_ref().map_or(f64::NAN, |point| point.value))
        })
        .collect()
}

fn expect(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

async fn record(suite: &Suite, day: i64) -> anyhow::Result<progress_pb::RecordDailyMetricsResponse> {
    let request = as_service("ops-tool", RecordDailyMetricsRequest { date: date(day) });
    Ok(metrics(suite).await?.record_daily_metrics(request).await?.into_inner())
}

async fn generate(suite: &Suite, token: &str, key: &str, request_id: &str) -> anyhow::Result<String> {
    let mut content = ContentServiceClient::new(suite.gateway_channel().await?);
    let answer = content.generate_content(bearer(lick_request(key, 160, request_id), token)?).await?.into_inner();
    Ok(answer.content.map(|c| c.id).unwrap_or_default())
}

#[tokio::test]
async fn the_daily_job_records_every_owners_figures_and_a_rerun_replaces_the_day() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let token = suite.learner("metrics@example.test").await?;
    let first_item = generate(&suite, &token, "C", "m-1").await?;
    generate(&suite, &token, "F", "m-2").await?;
    let mut practice = PracticeServiceClient::new(suite.gateway_channel().await?);
    let start =
        progress_pb::StartPracticeSessionRequest { started_at: Some(ts(seconds() - 1800)), ..Default::default() };
    let session = practice.start_practice_session(bearer(start, &token)?).await?.into_inner().session;
    let add = progress_pb::AddPracticeRecordRequest {
        practice_session_id: session.map(|s| s.id).unwrap_or_default(),
        content_id: first_item,
        minutes: 25,
        performance: Some(0.8),
        practiced_at: Some(ts(seconds() - 60)),
        ..Default::default()
    };
    practice.add_practice_record(bearer(add, &token)?).await?;

    let day = today();
    let first = record(&suite, day).await?;
    assert_eq!(first.date, date(day));
    let counted = expect(&[
        ("daily_active_users", 1.0),
        ("new_users", 1.0),
        ("new_subscriptions", 0.0),
        ("canceled_subscriptions", 0.0),
        ("ai_generations", 2.0),
        ("ai_generations{type=JAZZ_LICK}", 2.0),
        ("practice_minutes", 25.0),
        ("practice_records", 1.0),
        ("practicing_learners", 1.0),
    ]);
    assert_eq!(keyed(&first), counted);

    // A third item, then the day again: replaced, not doubled.
    generate(&suite, &token, "G", "m-3").await?;
    let again = record(&suite, day).await?;
    let mut recounted = counted.clone();
    recounted.insert("ai_generations".into(), 3.0);
    recounted.insert("ai_generations{type=JAZZ_LICK}".into(), 3.0);
    assert_eq!(keyed(&again), recounted);
    let mut db = suite
        .databases
        .iter()
        .find(|(s, _)| *s == ServiceName::Progress)
        .map(|(_, d)| d)
        .ok_or_else(|| anyhow::anyhow!("no db"))?
        .connect()
        .await?;
    let at = format!("to_timestamp({day})");
    let stored =
        jazz_e2e::sql::number(&mut db, &format!("SELECT count(*) AS n FROM system_metrics WHERE recorded_at = {at}"))
            .await?;
    assert_eq!(stored, i64::try_from(recounted.len())?, "one row per name and dimensions");
    let audited = jazz_e2e::sql::number(
        &mut db,
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'METRICS_RECORD' AND entity = 'system_metrics'",
    )
    .await?;
    assert_eq!(audited, 2, "each run audited");

    // Two earlier days (nothing happened then: zeros), then reads.
    record(&suite, day - DAY).await?;
    record(&suite, day - 2 * DAY).await?;
    let mut client = metrics(&suite).await?;
    let query = |name: &str| QueryMetricsRequest {
        metric_name: name.into(),
        start_time: Some(ts(day - 2 * DAY)),
        end_time: Some(ts(day + DAY)),
        ..Default::default()
    };
    let lick = QueryMetricsRequest {
        dimensions_filter: Some(jazz_platform::json::json_to_struct(&serde_json::json!({"type": "JAZZ_LICK"}))),
        ..query("ai_generations")
    };
    let lick = client.query_metrics(as_service("ops-tool", lick)).await?.into_inner();
    let values: Vec<f64> = lick.points.iter().map(|p| p.value).collect();
    assert_eq!(values, [3.0], "the filter keeps the per-type point of the day that had one");

    let daily = QueryMetricsRequest {
        bucket: Some(prost_types::Duration { seconds: DAY, nanos: 0 }),
        aggregation: MetricAggregation::Sum as i32,
        ..query("practice_minutes")
    };
    let daily = client.query_metrics(as_service("ops-tool", daily)).await?.into_inner();
    let buckets: Vec<(i64, f64)> =
        daily.points.iter().map(|p| (p.time.as_ref().map_or(0, |t| t.seconds), p.value)).collect();
    assert_eq!(buckets, [(day - 2 * DAY, 0.0), (day - DAY, 0.0), (day, 25.0)]);

    // Raw pages of two, then the rest; a token is bound to its query.
    let paged = QueryMetricsRequest { page_size: 2, ..query("practice_minutes") };
    let page1 = client.query_metrics(as_service("ops-tool", paged.clone())).await?.into_inner();
    assert_eq!(page1.points.len(), 2);
    assert!(!page1.next_page_token.is_empty());
    let page2 = QueryMetricsRequest { page_token: page1.next_page_token.clone(), ..paged.clone() };
    let page2 = client.query_metrics(as_service("ops-tool", page2)).await?.into_inner();
    assert_eq!(page2.points.iter().map(|p| p.value).collect::<Vec<_>>(), [25.0]);
    assert!(page2.next_page_token.is_empty());
    let elsewhere = QueryMetricsRequest { page_token: page1.next_page_token, ..query("new_users") };
    let elsewhere = client.query_metrics(as_service("ops-tool", elsewhere)).await.err();
    assert_eq!(elsewhere.as_ref().map(tonic::Status::code), Some(Code::InvalidArgument));

    // Names, sorted, through pages of four.
    let (mut names, mut token) = (Vec::new(), String::new());
    loop {
        let request = progress_pb::ListMetricNamesRequest { page_size: 4, page_token: token.clone() };
        let page = client.list_metric_names(as_service("ops-tool", request)).await?.into_inner();
        assert!(page.metrics.len() <= 4);
        assert!(page.metrics.iter().all(|m| m.last_recorded_at.as_ref().is_some_and(|t| t.seconds == day)));
        names.extend(page.metrics.into_iter().map(|m| m.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut expected: Vec<String> = counted.keys().filter(|k| !k.contains('{')).cloned().collect();
    expected.sort();
    assert_eq!(names, expected);

    // Bad values: refused with the field named, nothing recorded.
    let bad_record = |date: String| as_service("ops-tool", RecordDailyMetricsRequest { date });
    for bad in ["2026-02-30".to_owned(), "yesterday".to_owned(), date(day + 2 * DAY)] {
        let refused = client.record_daily_metrics(bad_record(bad.clone())).await.err();
        assert_eq!(refused.as_ref().map(tonic::Status::code), Some(Code::InvalidArgument), "{bad}");
        assert_eq!(refused.as_ref().map(bad_fields), Some(vec!["date".to_owned()]), "{bad}");
    }
    let cases = [
        (QueryMetricsRequest { start_time: None, ..query("new_users") }, "start_time"),
        (QueryMetricsRequest { metric_name: String::new(), ..query("new_users") }, "metric_name"),
        (QueryMetricsRequest { end_time: Some(ts(day - 3 * DAY)), ..query("new_users") }, "end_time"),
        (
            QueryMetricsRequest { bucket: Some(prost_types::Duration { seconds: 1, nanos: 0 }), ..query("new_users") },
            "bucket",
        ),
        (QueryMetricsRequest { aggregation: 99, ..query("new_users") }, "aggregation"),
        (QueryMetricsRequest { page_size: -1, ..query("new_users") }, "page_size"),
    ];
    for (request, field) in cases {
        let refused = client.query_metrics(as_service("ops-tool", request)).await.err();
        assert_eq!(refused.as_ref().map(tonic::Status::code), Some(Code::InvalidArgument), "{field}");
        assert!(
            refused.as_ref().map(bad_fields).is_some_and(|f| f.contains(&field.to_owned())),
            "{field}: {refused:?}"
        );
    }
    let unknown = client.query_metrics(as_service("ops-tool", query("no_such_metric"))).await?.into_inner();
    assert!(unknown.points.is_empty());

    // Internal: a user's principal is refused, and the gateway does not
    // route the admin service at all.
    let as_user = TestUser::new().signed(RecordDailyMetricsRequest { date: date(day) });
    let denied = client.record_daily_metrics(as_user).await.err();
    assert_eq!(denied.map(|s| s.code()), Some(Code::PermissionDenied));
    let mut through_gateway = MetricsAdminServiceClient::new(suite.gateway_channel().await?);
    let hidden = through_gateway
        .record_daily_metrics(bearer(RecordDailyMetricsRequest { date: date(day) }, &token)?)
        .await
        .err();
    assert_eq!(hidden.map(|s| s.code()), Some(Code::Unimplemented), "the gateway has no route to admin services");
    let audited_after = jazz_e2e::sql::number(
        &mut db,
        "SELECT count(*) AS n FROM audit_logs WHERE action = 'METRICS_RECORD' AND entity = 'system_metrics'",
    )
    .await?;
    assert_eq!(audited_after, 4, "refused runs audit nothing");
    Ok(())
}

#[tokio::test]
async fn an_owner_that_cannot_answer_leaves_the_day_unwritten() -> anyhow::Result<()> {
    let db = jazz_platform::testing::TestDatabase::migrated(ServiceName::Progress, progress::MIGRATIONS).await?;
    let config = jazz_e2e::service_config(ServiceName::Progress, &db.url, jazz_e2e::no_peers());
    let service = jazz_e2e::LoneService::serve(progress::build(config).await?).await?;
    let mut client = MetricsAdminServiceClient::new(service.channel.clone());
    let refused = client
        .record_daily_metrics(as_service("ops-tool", RecordDailyMetricsRequest { date: date(today()) }))
        .await
        .err();
    assert_eq!(refused.map(|s| s.code()), Some(Code::Unavailable));
    let mut conn = db.connect().await?;
    assert_eq!(jazz_e2e::sql::number(&mut conn, "SELECT count(*) AS n FROM system_metrics").await?, 0);
    assert_eq!(jazz_e2e::sql::number(&mut conn, "SELECT count(*) AS n FROM audit_logs").await?, 0);
    Ok(())
}

async fn flags(suite: &Suite, token: &str) -> anyhow::Result<BTreeMap<String, bool>> {
    let mut client = FeatureFlagServiceClient::new(suite.gateway_channel().await?);
    let request = identity_pb::EvaluateFlagsRequest { names: vec!["pro_voicings".into(), "free_welcome".into()] };
    let answer = client.evaluate_flags(bearer(request, token)?).await?.into_inner();
    Ok(answer.flags.into_iter().map(|f| (f.name, f.enabled)).collect())
}

/// Polls the flags until `pro_voicings` is `on` (the event travels through
/// billing's outbox relay to identity).
async fn wait_for_pro(suite: &Suite, token: &str, on: bool) -> anyhow::Result<BTreeMap<String, bool>> {
    for _ in 0..100 {
        let now = flags(suite, token).await?;
        if now.get("pro_voicings") == Some(&on) {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("pro_voicings never became {on}")
}

#[tokio::test]
async fn a_tier_targeted_flag_follows_the_subscription_billing_reports() -> anyhow::Result<()> {
    let suite = Suite::start().await?;
    let token = suite.learner("tiered@example.test").await?;
    let me = UserServiceClient::new(suite.gateway_channel().await?)
        .get_me(bearer(identity_pb::GetMeRequest {}, &token)?)
        .await?
        .into_inner()
        .user
        .map(|u| u.id)
        .unwrap_or_default();
    let mut admin = IdentityAdminServiceClient::new(suite.service_channel(ServiceName::Identity).await?);
    for (name, tier) in [("pro_voicings", "SUBSCRIPTION_TIER_PRO"), ("free_welcome", "SUBSCRIPTION_TIER_FREE")] {
        let flag = identity_pb::FeatureFlag {
            name: name.into(),
            is_enabled: true,
            rollout_percentage: 100.0,
            conditions: Some(jazz_platform::json::json_to_struct(&serde_json::json!({ "tiers": [tier] }))),
            ..Default::default()
        };
        let create = identity_pb::CreateFeatureFlagRequest { flag: Some(flag), request_id: String::new() };
        admin.create_feature_flag(as_service("ops-tool", create)).await?;
    }
    let before = flags(&suite, &token).await?;
    assert_eq!(before, BTreeMap::from([("free_welcome".into(), true), ("pro_voicings".into(), false)]));

    // Stripe tells the gateway; billing applies it and reports the tier.
    let client = jazz_platform::http::HttpClient::new(Duration::from_secs(5))?;
    let url = format!("http://{}/webhooks/stripe", suite.gateway);
    let post = |body: Vec<u8>| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            headers
                .insert("stripe-signature", http::HeaderValue::try_from(signature(&body, WEBHOOK_SECRET, seconds())?)?);
            Ok::<_, anyhow::Error>(client.post(&url, headers, body.into()).await?.status.as_u16())
        }
    };
    let pro = subscription("sub_tier", "cus_tier", &me, PRO_PRICE, "active", false);
    assert_eq!(post(event("evt_tier_1", "customer.subscription.created", seconds() - 5, pro.clone())).await?, 200);
    let upgraded = wait_for_pro(&suite, &token, true).await?;
    assert_eq!(upgraded.get("free_welcome"), Some(&false), "a PRO learner is no longer FREE");

    let mut canceled = pro;
    canceled["status"] = "canceled".into();
    canceled["canceled_at"] = seconds().into();
    assert_eq!(post(event("evt_tier_2", "customer.subscription.deleted", seconds(), canceled)).await?, 200);
    let lapsed = wait_for_pro(&suite, &token, false).await?;
    assert_eq!(lapsed.get("free_welcome"), Some(&true));

    // Stale and repeated reports change nothing; bad ones are refused.
    let mut internal = IdentityInternalServiceClient::new(suite.service_channel(ServiceName::Identity).await?);
    let report = |event_id: &str, tier: SubscriptionTier, at: i64| identity_pb::HandleSubscriptionChangedRequest {
        event_id: event_id.into(),
        user_id: me.clone(),
        effective_tier: tier as i32,
        changed_at: Some(ts(at)),
        ..Default::default()
    };
    let event_id = jazz_platform::ids::to_api(jazz_platform::ids::new_id());
    let stale = internal
        .handle_subscription_changed(as_service("billing", report(&event_id, SubscriptionTier::Pro, seconds() - DAY)))
        .await?
        .into_inner();
    assert!(stale.duplicate, "older than the stored tier");
    let fresh_id = jazz_platform::ids::to_api(jazz_platform::ids::new_id());
    let fresh = report(&fresh_id, SubscriptionTier::Educator, seconds() + 60);
    assert!(!internal.handle_subscription_changed(as_service("billing", fresh.clone())).await?.into_inner().duplicate);
    assert!(internal.handle_subscription_changed(as_service("billing", fresh)).await?.into_inner().duplicate);
    let bad = identity_pb::HandleSubscriptionChangedRequest {
        effective_tier: 0,
        user_id: "nope".into(),
        ..report(&fresh_id, SubscriptionTier::Pro, seconds())
    };
    let refused = internal.handle_subscription_changed(as_service("billing", bad)).await.err();
    assert_eq!(refused.as_ref().map(tonic::Status::code), Some(Code::InvalidArgument));
    assert_eq!(refused.as_ref().map(bad_fields), Some(vec!["user_id".to_owned(), "effective_tier".to_owned()]));
    let mut identity_db = suite
        .databases
        .iter()
        .find(|(s, _)| *s == ServiceName::Identity)
        .map(|(_, d)| d)
        .ok_or_else(|| anyhow::anyhow!("no db"))?
        .connect()
        .await?;
    let tiers = jazz_e2e::sql::lines(&mut identity_db, "SELECT tier AS line FROM user_tiers").await?;
    assert_eq!(tiers, ["SUBSCRIPTION_TIER_EDUCATOR"]);
    let audited =
        jazz_e2e::sql::number(&mut identity_db, "SELECT count(*) AS n FROM audit_logs WHERE entity = 'user_tiers'")
            .await?;
    assert_eq!(audited, 3, "PRO, FREE, EDUCATOR; the stale and repeated ones wrote nothing");

    // Billing's figures of the day count the upgrade and the cancellation.
    let day = record(&suite, today()).await?;
    let figures = keyed(&day);
    for (name, value) in [
        ("new_subscriptions", 1.0),
        ("new_subscriptions{tier=PRO}", 1.0),
        ("canceled_subscriptions", 1.0),
        ("canceled_subscriptions{tier=PRO}", 1.0),
    ] {
        assert_eq!(figures.get(name), Some(&value), "{name}: {figures:?}");
    }
    Ok(())
}
