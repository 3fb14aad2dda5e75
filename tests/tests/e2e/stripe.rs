//! Billing and Stripe on real PostgreSQL and real gRPC: billing started
//! alone on a fresh database with the seeded catalogue, its Stripe client
//! pointed at a local stand-in HTTP server (`tests/src/stripe.rs`) that
//! answers like Stripe and records every request; webhooks signed the way
//! Stripe signs them, delivered to HandleStripeEvent directly and through
//! the gateway's `POST /webhooks/stripe`.

use jazz_e2e::TestUser as User;
use jazz_e2e::reason;
use jazz_e2e::stripe;

use std::time::Duration;

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::billing::v1::{
    CancelSubscriptionRequest, GetSubscriptionRequest, HandleStripeEventRequest, HandleStripeEventResponse,
    OpenBillingPortalRequest, ResumeSubscriptionRequest, StartCheckoutRequest, StartCheckoutResponse, Subscription,
};
use jazz_contract::jazz::common::v1::{SubscriptionStatus, SubscriptionTier};
use jazz_e2e::{LoneService, TEST_PRINCIPAL_SECRET};
use jazz_platform::testing::TestDatabase;
use jazz_platform::{Principal, PrincipalKey, ServiceName};
use secrecy::SecretString;
use serde_json::json;
use stripe::{ORIGIN, StripeStandIn, WEBHOOK_SECRET, event, seconds, signature, subscription};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;

const PRO_PRICE: &str = "price_jazzmaster_pro_monthly";
const EDUCATOR_PRICE: &str = "price_jazzmaster_educator_monthly";

/// Billing alone, talking to a Stripe stand-in.
struct Billing {
    db: TestDatabase,
    service: LoneService,
    key: PrincipalKey,
    stripe: StripeStandIn,
}

impl Billing {
    async fn start() -> anyhow::Result<Self> {
        let stripe = StripeStandIn::start().await?;
        let db = TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS).await?;
        let service = jazz_e2e::billing_alone(&db, stripe::billing_options(&stripe, true)?).await?;
        Ok(Self { db, service, key: jazz_e2e::test_principal_key(), stripe })
    }

    fn public(&self) -> BillingServiceClient<Channel> {
        BillingServiceClient::new(self.service.channel.clone())
    }

    fn as_user<T>(&self, user: &User, message: T) -> Request<T> {
        user.signed(message)
    }

    async fn checkout(
        &self,
        user: &User,
        tier: SubscriptionTier,
        request_id: &str,
    ) -> Result<StartCheckoutResponse, Status> {
        let request = StartCheckoutRequest {
            tier: tier as i32,
            success_url: format!("{ORIGIN}/billing/done"),
            cancel_url: "jazzmaster://billing/cancel".into(),
            request_id: request_id.into(),
        };
        self.public().start_checkout(self.as_user(user, request)).await.map(tonic::Response::into_inner)
    }

    async fn subscription(&self, user: &User) -> anyhow::Result<Subscription> {
        let answer = self.public().get_subscription(self.as_user(user, GetSubscriptionRequest {})).await?;
        answer.into_inner().subscription.ok_or_else(|| anyhow::anyhow!("no subscription"))
    }

    /// Delivers a signed webhook to HandleStripeEvent as the gateway does.
    async fn deliver(&self, payload: &[u8], header: &str) -> Result<HandleStripeEventResponse, Status> {
        let mut request =
            Request::new(HandleStripeEventRequest { payload: payload.to_vec(), signature_header: header.into() });
        self.key.attach(&mut request, &Principal::service("gateway"));
        let mut client = BillingInternalServiceClient::new(self.service.channel.clone());
        client.handle_stripe_event(request).await.map(tonic::Response::into_inner)
    }

    async fn deliver_signed(&self, payload: &[u8]) -> anyhow::Result<HandleStripeEventResponse> {
        Ok(self.deliver(payload, &signature(payload, WEBHOOK_SECRET, seconds())?).await?)
    }

    async fn sql(&self) -> anyhow::Result<AsyncPgConnection> {
        self.db.connect().await
    }

    /// One number from SQL (`$1` = the user's id, if the query uses it).
    async fn count(&self, query: &str, user: &User) -> anyhow::Result<i64> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let id = user.0.user_id.ok_or_else(|| anyhow::anyhow!("no user"))?;
        let row: Row = diesel::sql_query(query).bind::<SqlUuid, _>(id).get_result(&mut self.sql().await?).await?;
        Ok(row.n)
    }

    async fn text(&self, query: &str, user: &User) -> anyhow::Result<Option<String>> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            t: Option<String>,
        }
        let id = user.0.user_id.ok_or_else(|| anyhow::anyhow!("no user"))?;
        let row: Row = diesel::sql_query(query).bind::<SqlUuid, _>(id).get_result(&mut self.sql().await?).await?;
        Ok(row.t)
    }

    /// Everything billing may write for a user: audit rows, replay/key
    /// rows of any state, Stripe events, outbox events and the Stripe ids.
    async fn footprint(&self, user: &User) -> anyhow::Result<Vec<i64>> {
        Ok(vec![
            self.count("SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action <> 'CREATE'", user).await?,
            self.count(
                "SELECT count(*) AS n FROM idempotency_keys WHERE status = 'completed' AND $1 IS NOT NULL",
                user,
            )
            .await?,
            self.count("SELECT count(*) AS n FROM stripe_events WHERE $1 IS NOT NULL", user).await?,
            self.count("SELECT count(*) AS n FROM outbox_events WHERE $1 IS NOT NULL", user).await?,
            self.count(
                "SELECT count(*) AS n FROM subscriptions WHERE user_id = $1 AND (stripe_customer_id IS NOT NULL \
                 OR stripe_subscription_id IS NOT NULL OR tier <> 'FREE')",
                user,
            )
            .await?,
        ])
    }
}

fn bad_field(status: &Status) -> Option<String> {
    status.get_details_bad_request().and_then(|b| <[_]>::first(&b.field_violations).map(|v| v.field.clone()))
}

#[tokio::test]
async fn checkout_returns_the_stand_ins_url_and_a_retried_request_id_calls_stripe_once() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let first = billing.checkout(&user, SubscriptionTier::Pro, "checkout-1").await?;
    assert!(first.checkout_url.starts_with(&format!("{}/c/pay/cs_test_", billing.stripe.url)), "{first:?}");
    assert!(first.checkout_session_id.starts_with("cs_test_"));
    assert!(first.expires_at.is_some_and(|t| t.seconds > seconds() + 3600));

    // What reached Stripe: a customer, then the session, both with the key,
    // the bearer secret and form encoding.
    let customers = billing.stripe.requests_to("/v1/customers");
    let sessions = billing.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!((customers.len(), sessions.len()), (1, 1));
    let session = &sessions[0];
    for request in [&customers[0], session] {
        assert_eq!(request.method, "POST");
        assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {}", stripe::SECRET_KEY).as_str()));
        assert_eq!(request.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
        assert!(request.idempotency_key.as_deref().is_some_and(|k| !k.is_empty()));
    }
    assert_eq!(customers[0].field("metadata[user_id]"), Some(user.api().as_str()));
    assert_eq!(session.field("mode"), Some("subscription"));
    assert_eq!(session.field("line_items[0][price]"), Some(PRO_PRICE));
    assert_eq!(session.field("line_items[0][quantity]"), Some("1"));
    assert_eq!(session.field("customer"), Some("cus_test_1"));
    assert_eq!(session.field("client_reference_id"), Some(user.api().as_str()));
    assert_eq!(session.field("metadata[user_id]"), Some(user.api().as_str()));
    assert_eq!(session.field("subscription_data[metadata][user_id]"), Some(user.api().as_str()));
    assert_eq!(session.field("success_url"), Some(format!("{ORIGIN}/billing/done").as_str()));
    assert_eq!(session.field("cancel_url"), Some("jazzmaster://billing/cancel"));
    assert!(session.idempotency_key.as_deref().is_some_and(|k| k.contains("checkout-1")));

    // The same request_id: the same session, and Stripe is not called again.
    let again = billing.checkout(&user, SubscriptionTier::Pro, "checkout-1").await?;
    assert_eq!(again, first);
    assert_eq!(billing.stripe.requests().len(), 2);
    // The same id with other arguments is refused, still without Stripe.
    let reused = billing.checkout(&user, SubscriptionTier::Educator, "checkout-1").await.err();
    assert_eq!(reused.as_ref().map(Status::code), Some(Code::InvalidArgument));
    assert_eq!(reused.as_ref().and_then(bad_field).as_deref(), Some("request_id"));
    assert_eq!(billing.stripe.requests().len(), 2);

    // A new id: a new session for the same customer, no second customer.
    let second = billing.checkout(&user, SubscriptionTier::Educator, "checkout-2").await?;
    assert_ne!(second.checkout_session_id, first.checkout_session_id);
    assert_eq!(billing.stripe.requests_to("/v1/customers").len(), 1);
    let last = billing.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(last.last().and_then(|r| r.field("line_items[0][price]")), Some(EDUCATOR_PRICE));
    assert_eq!(
        billing.text("SELECT stripe_customer_id AS t FROM subscriptions WHERE user_id = $1", &user).await?.as_deref(),
        Some("cus_test_1")
    );
    let audits = "SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action = 'CHECKOUT_START'";
    assert_eq!(billing.count(audits, &user).await?, 2);
    let customer_audits =
        "SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action = 'STRIPE_CUSTOMER_CREATE'";
    assert_eq!(billing.count(customer_audits, &user).await?, 1);

    // The portal for the customer; a user who never checked out has none.
    let portal = billing
        .public()
        .open_billing_portal(
            billing.as_user(&user, OpenBillingPortalRequest { return_url: format!("{ORIGIN}/account") }),
        )
        .await?
        .into_inner();
    assert!(portal.url.starts_with(&format!("{}/p/session/bps_test_", billing.stripe.url)));
    let portal_calls = billing.stripe.requests_to("/v1/billing_portal/sessions");
    assert_eq!(portal_calls.len(), 1);
    assert_eq!(portal_calls[0].field("customer"), Some("cus_test_1"));
    assert_eq!(portal_calls[0].field("return_url"), Some(format!("{ORIGIN}/account").as_str()));
    assert!(portal_calls[0].idempotency_key.is_some());
    let stranger = User::new();
    let none = billing
        .public()
        .open_billing_portal(billing.as_user(&stranger, OpenBillingPortalRequest { return_url: format!("{ORIGIN}/a") }))
        .await
        .err();
    assert_eq!(none.as_ref().map(Status::code), Some(Code::FailedPrecondition));
    assert_eq!(none.as_ref().and_then(reason).as_deref(), Some("NO_BILLING_ACCOUNT"));
    Ok(())
}

#[tokio::test]
async fn bad_checkout_input_names_the_field_and_reaches_neither_stripe_nor_the_database() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    let good = StartCheckoutRequest {
        tier: SubscriptionTier::Pro as i32,
        success_url: format!("{ORIGIN}/ok"),
        cancel_url: format!("{ORIGIN}/no"),
        request_id: "r1".into(),
    };
    let cases = [
        ("tier", StartCheckoutRequest { tier: SubscriptionTier::Free as i32, ..good.clone() }),
        ("tier", StartCheckoutRequest { tier: 0, ..good.clone() }),
        ("tier", StartCheckoutRequest { tier: 99, ..good.clone() }),
        ("success_url", StartCheckoutRequest { success_url: "https://evil.test/ok".into(), ..good.clone() }),
        ("success_url", StartCheckoutRequest { success_url: "http://app.jazzmaster.test/ok".into(), ..good.clone() }),
        ("cancel_url", StartCheckoutRequest { cancel_url: String::new(), ..good.clone() }),
        ("cancel_url", StartCheckoutRequest { cancel_url: format!("{ORIGIN}/{}", "a".repeat(2048)), ..good.clone() }),
        ("request_id", StartCheckoutRequest { request_id: "has space".into(), ..good.clone() }),
        ("request_id", StartCheckoutRequest { request_id: "r".repeat(65), ..good.clone() }),
    ];
    for (field, request) in cases {
        let status = billing.public().start_checkout(billing.as_user(&user, request)).await.err();
        assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument), "{field}");
        assert_eq!(status.as_ref().and_then(bad_field).as_deref(), Some(field));
    }
    let portal = billing
        .public()
        .open_billing_portal(billing.as_user(&user, OpenBillingPortalRequest { return_url: "ftp://x/y".into() }))
        .await
        .err();
    assert_eq!(portal.as_ref().and_then(bad_field).as_deref(), Some("return_url"));
    assert!(billing.stripe.requests().is_empty());
    assert_eq!(billing.footprint(&user).await?, vec![0, 0, 0, 0, 0]);
    assert_eq!(billing.count("SELECT count(*) AS n FROM idempotency_keys WHERE $1 IS NOT NULL", &user).await?, 0);
    Ok(())
}

#[tokio::test]
async fn stripe_down_answers_unavailable_writes_nothing_and_the_retry_reuses_the_stored_key() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.stripe.fail_with(Some(503));
    let status = billing.checkout(&user, SubscriptionTier::Pro, "down-1").await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::Unavailable));
    assert!(status.as_ref().is_some_and(|s| !s.message().contains("stand-in")));
    assert_eq!(billing.footprint(&user).await?, vec![0, 0, 0, 0, 0]);
    // Only the keys reserved before the call remain, still in progress.
    let open = "SELECT count(*) AS n FROM idempotency_keys WHERE status = 'in_progress' AND $1 IS NOT NULL";
    assert_eq!(billing.count(open, &user).await?, 2);

    // A refusal (4xx) answers FAILED_PRECONDITION without Stripe's text.
    billing.stripe.fail_with(Some(400));
    let status = billing.checkout(&user, SubscriptionTier::Pro, "down-1").await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::FailedPrecondition));
    assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("PAYMENT_PROVIDER_REFUSED"));
    assert!(status.as_ref().is_some_and(|s| !s.message().contains("secret detail")));
    assert_eq!(billing.footprint(&user).await?, vec![0, 0, 0, 0, 0]);

    // Back up: the retry with the same request_id sends the same customer
    // key as the failed attempts (it was stored before the first call).
    billing.stripe.fail_with(None);
    let answer = billing.checkout(&user, SubscriptionTier::Pro, "down-1").await?;
    assert!(answer.checkout_url.starts_with(&billing.stripe.url));
    let keys: Vec<_> =
        billing.stripe.requests_to("/v1/customers").into_iter().filter_map(|r| r.idempotency_key).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(billing.count(open, &user).await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_signed_event_applies_once_and_a_duplicate_changes_nothing() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.subscription(&user).await?; // the FREE row, as sign-up makes it
    let body = event(
        "evt_created_1",
        "customer.subscription.created",
        seconds(),
        subscription("sub_1", "cus_1", &user.api(), PRO_PRICE, "active", false),
    );
    let first = billing.deliver_signed(&body).await?;
    assert_eq!(
        (first.event_id.as_str(), first.event_type.as_str(), first.duplicate),
        ("evt_created_1", "customer.subscription.created", false)
    );
    let now = billing.subscription(&user).await?;
    assert_eq!(
        (now.tier, now.status, now.effective_tier),
        (SubscriptionTier::Pro as i32, SubscriptionStatus::Active as i32, SubscriptionTier::Pro as i32)
    );
    assert_eq!(now.stripe_price_id, PRO_PRICE);
    assert!(now.current_period_end.is_some_and(|t| t.seconds > seconds() + 20 * 86_400));
    let written = billing.footprint(&user).await?;
    assert_eq!(written, vec![1, 0, 1, 1, 1], "audit, -, stripe event, outbox, linked");

    let again = billing.deliver_signed(&body).await?;
    assert!(again.duplicate);
    assert_eq!(billing.footprint(&user).await?, written);
    assert_eq!(billing.subscription(&user).await?.updated_at, now.updated_at);

    // Unknown types are acknowledged and recorded, changing nothing else.
    let other = event("evt_other", "charge.refunded", seconds(), json!({"id": "ch_1"}));
    assert!(!billing.deliver_signed(&other).await?.duplicate);
    assert_eq!(billing.count("SELECT count(*) AS n FROM stripe_events WHERE $1 IS NOT NULL", &user).await?, 2);
    assert_eq!(billing.footprint(&user).await?[0], 1);
    Ok(())
}

#[tokio::test]
async fn bad_missing_and_stale_signatures_are_refused_and_nothing_is_written() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.subscription(&user).await?;
    let body = event(
        "evt_forged",
        "customer.subscription.created",
        seconds(),
        subscription("sub_f", "cus_f", &user.api(), PRO_PRICE, "active", false),
    );
    let now = seconds();
    let good = signature(&body, WEBHOOK_SECRET, now)?;
    let tampered = {
        let mut b = body.clone();
        b.extend_from_slice(b" ");
        b
    };
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("wrong secret", body.clone(), signature(&body, "whsec_someone_else", now)?),
        ("missing", body.clone(), String::new()),
        ("no v1", body.clone(), format!("t={now}")),
        ("tampered body", tampered, good.clone()),
        ("stale", body.clone(), signature(&body, WEBHOOK_SECRET, now - 301)?),
        ("future", body.clone(), signature(&body, WEBHOOK_SECRET, now + 330)?), // margin: the clock runs on
        ("other timestamp", body.clone(), good.replacen(&format!("t={now}"), &format!("t={}", now - 1), 1)),
    ];
    for (case, payload, header) in cases {
        let status = billing.deliver(&payload, &header).await.err();
        assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument), "{case}");
        assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("STRIPE_SIGNATURE_INVALID"), "{case}");
        assert!(status.as_ref().is_some_and(|s| !s.message().contains(WEBHOOK_SECRET)));
    }
    // Correctly signed, but not an event.
    let junk = br#"{"hello":"world"}"#;
    let status = billing.deliver(junk, &signature(junk, WEBHOOK_SECRET, now)?).await.err();
    assert_eq!(status.as_ref().and_then(reason).as_deref(), Some("STRIPE_PAYLOAD_INVALID"));
    assert_eq!(billing.footprint(&user).await?, vec![0, 0, 0, 0, 0]);
    assert_eq!(billing.subscription(&user).await?.tier, SubscriptionTier::Free as i32);
    Ok(())
}

#[tokio::test]
async fn shuffled_events_end_in_the_newest_state() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.subscription(&user).await?;
    let t0 = seconds() - 100;
    let sub = |status: &str, cancel: bool| subscription("sub_s", "cus_s", &user.api(), PRO_PRICE, status, cancel);
    // Stripe's order: created (trialing), updated (active, cancel scheduled),
    // a payment failure, updated (past_due) and deleted. They arrive shuffled.
    let created = event("evt_s1", "customer.subscription.created", t0 + 10, sub("trialing", false));
    let updated = event("evt_s2", "customer.subscription.updated", t0 + 20, sub("active", true));
    let failed = event("evt_s3", "invoice.payment_failed", t0 + 25, json!({"id": "in_1", "subscription": "sub_s"}));
    let past_due = event("evt_s4", "customer.subscription.updated", t0 + 30, sub("past_due", true));
    let checkout = event(
        "evt_s0",
        "checkout.session.completed",
        t0 + 5,
        json!({"id": "cs_1", "object": "checkout.session", "client_reference_id": user.api(),
               "customer": "cus_s", "subscription": "sub_s", "mode": "subscription"}),
    );

    billing.deliver_signed(&updated).await?;
    billing.deliver_signed(&created).await?; // older: ignored
    let view = billing.subscription(&user).await?;
    assert_eq!((view.status, view.cancel_at_period_end), (SubscriptionStatus::Active as i32, true));

    billing.deliver_signed(&past_due).await?;
    billing.deliver_signed(&failed).await?; // older than past_due: ignored
    billing.deliver_signed(&updated).await?; // a duplicate of an older one
    billing.deliver_signed(&checkout).await?; // links ids only
    let view = billing.subscription(&user).await?;
    assert_eq!((view.tier, view.status), (SubscriptionTier::Pro as i32, SubscriptionStatus::PastDue as i32));
    assert_eq!(view.effective_tier, SubscriptionTier::Pro as i32);
    assert_eq!(
        billing
            .text("SELECT stripe_subscription_id AS t FROM subscriptions WHERE user_id = $1", &user)
            .await?
            .as_deref(),
        Some("sub_s")
    );

    // The end; a late "active" update from before it changes nothing.
    let deleted = event("evt_s5", "customer.subscription.deleted", t0 + 40, sub("canceled", false));
    billing.deliver_signed(&deleted).await?;
    let late = event("evt_s6", "customer.subscription.updated", t0 + 35, sub("active", false));
    billing.deliver_signed(&late).await?;
    let view = billing.subscription(&user).await?;
    assert_eq!(
        (view.status, view.effective_tier),
        (SubscriptionStatus::Canceled as i32, SubscriptionTier::Free as i32)
    );
    // Seven events recorded; state-changing ones each wrote an audit entry.
    assert_eq!(billing.count("SELECT count(*) AS n FROM stripe_events WHERE $1 IS NOT NULL", &user).await?, 7);
    let audits = "SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action = 'STRIPE_EVENT'";
    assert_eq!(billing.count(audits, &user).await?, 4, "updated, past_due, checkout link, deleted");

    // A payment failure in order does move an active subscription.
    let other = User::new();
    billing.subscription(&other).await?;
    let t1 = seconds() - 50;
    let active = subscription("sub_o", "cus_o", &other.api(), EDUCATOR_PRICE, "active", false);
    billing.deliver_signed(&event("evt_o1", "customer.subscription.created", t1, active)).await?;
    let invoice = json!({"id": "in_2", "parent": {"subscription_details": {"subscription": "sub_o"}}});
    billing.deliver_signed(&event("evt_o2", "invoice.payment_failed", t1 + 1, invoice)).await?;
    let view = billing.subscription(&other).await?;
    assert_eq!((view.tier, view.status), (SubscriptionTier::Educator as i32, SubscriptionStatus::PastDue as i32));
    Ok(())
}

#[tokio::test]
async fn cancel_and_resume_reach_stripe_with_the_field_and_a_key() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.subscription(&user).await?;
    let active = subscription("sub_c", "cus_c", &user.api(), PRO_PRICE, "active", false);
    billing.deliver_signed(&event("evt_c1", "customer.subscription.created", seconds() - 5, active)).await?;

    let canceled = billing.public().cancel_subscription(billing.as_user(&user, CancelSubscriptionRequest {})).await?;
    let canceled = canceled.into_inner().subscription.unwrap_or_default();
    assert!(canceled.cancel_at_period_end && canceled.canceled_at.is_some());
    assert_eq!(canceled.effective_tier, SubscriptionTier::Pro as i32);
    let calls = billing.stripe.requests_to("/v1/subscriptions/sub_c");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].field("cancel_at_period_end"), Some("true"));
    assert_eq!(calls[0].authorization.as_deref(), Some(format!("Bearer {}", stripe::SECRET_KEY).as_str()));
    // Again: a no-op, Stripe not called.
    billing.public().cancel_subscription(billing.as_user(&user, CancelSubscriptionRequest {})).await?;
    assert_eq!(billing.stripe.requests_to("/v1/subscriptions/").len(), 1);

    let resumed = billing.public().resume_subscription(billing.as_user(&user, ResumeSubscriptionRequest {})).await?;
    assert!(!resumed.into_inner().subscription.unwrap_or_default().cancel_at_period_end);
    let calls = billing.stripe.requests_to("/v1/subscriptions/sub_c");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].field("cancel_at_period_end"), Some("false"));
    assert!(calls[0].idempotency_key.is_some() && calls[0].idempotency_key != calls[1].idempotency_key);
    let audits = "SELECT count(*) AS n FROM audit_logs WHERE user_id = $1 AND action IN ('CANCEL', 'RESUME')";
    assert_eq!(billing.count(audits, &user).await?, 2);

    // Stripe down: UNAVAILABLE and the flag stays as it was.
    billing.stripe.fail_with(Some(502));
    let status = billing.public().cancel_subscription(billing.as_user(&user, CancelSubscriptionRequest {})).await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::Unavailable));
    assert!(!billing.subscription(&user).await?.cancel_at_period_end);
    assert_eq!(billing.count(audits, &user).await?, 2);
    Ok(())
}

#[tokio::test]
async fn the_gateway_webhook_endpoint_hands_stripe_events_to_billing() -> anyhow::Result<()> {
    let billing = Billing::start().await?;
    let user = User::new();
    billing.subscription(&user).await?;
    let nowhere = "http://127.0.0.1:1".to_owned();
    let gateway = gateway::build(gateway::GatewayConfig {
        listen: jazz_platform::config::Listen::Addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        peers: jazz_platform::config::PeerUrls {
            identity: nowhere.clone(),
            billing: format!("http://{}", billing.service.addr),
            content: nowhere.clone(),
            progress: nowhere,
        },
        principal_secret: SecretString::from(TEST_PRINCIPAL_SECRET.to_owned()),
        limits: jazz_platform::config::ServerLimits::default(),
        auth_cache_ttl: Duration::from_secs(1),
        rate_limits: gateway::limits::RateLimits::default(),
        cors_allowed_origins: Vec::new(),
    })
    .await?;
    let url = format!("http://{}/webhooks/stripe", gateway.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = gateway
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await;
    });
    let client = jazz_platform::http::HttpClient::new(Duration::from_secs(5))?;
    let post = |body: Vec<u8>, header: Option<String>| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
            if let Some(header) = header {
                headers.insert("stripe-signature", http::HeaderValue::try_from(header)?);
            }
            for _ in 0..50 {
                match client.post(&url, headers.clone(), body.clone().into()).await {
                    Ok(response) => return Ok::<_, anyhow::Error>(response.status.as_u16()),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            anyhow::bail!("gateway not reachable")
        }
    };
    let body = event(
        "evt_gw_1",
        "customer.subscription.created",
        seconds(),
        subscription("sub_gw", "cus_gw", &user.api(), PRO_PRICE, "active", false),
    );
    assert_eq!(post(body.clone(), Some(signature(&body, "whsec_wrong", seconds())?)).await?, 400);
    assert_eq!(post(body.clone(), None).await?, 400);
    assert_eq!(billing.subscription(&user).await?.tier, SubscriptionTier::Free as i32);
    assert_eq!(post(body.clone(), Some(signature(&body, WEBHOOK_SECRET, seconds())?)).await?, 200);
    assert_eq!(post(body.clone(), Some(signature(&body, WEBHOOK_SECRET, seconds())?)).await?, 200); // duplicate
    assert_eq!(billing.subscription(&user).await?.tier, SubscriptionTier::Pro as i32);
    assert_eq!(billing.count("SELECT count(*) AS n FROM stripe_events WHERE $1 IS NOT NULL", &user).await?, 1);
    drop(stop);
    Ok(())
}
