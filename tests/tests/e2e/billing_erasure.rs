//! Billing's PurgeUser on real PostgreSQL and real gRPC: billing started
//! alone on a fresh database with the seeded catalogue, its Stripe client
//! pointed at the local stand-in (`tests/src/stripe.rs`). Afterwards no row
//! of billing's database mentions the purged user (every table's row text
//! is scanned for the uuid and ULID forms, and stored replay answers for
//! the ULID), the user's Stripe subscription is canceled at Stripe, and
//! other users' rows are untouched.

use jazz_e2e::TestUser as User;
use jazz_e2e::bad_fields;
use jazz_e2e::stripe;

use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::billing::v1::billing_service_client::BillingServiceClient;
use jazz_contract::jazz::billing::v1::{
    CancelSubscriptionRequest, ConsumeQuotaRequest, GetSubscriptionRequest, GetUserSubscriptionRequest,
    HandleStripeEventRequest, PurgeUserRequest, PurgeUserResponse, StartCheckoutRequest,
};
use jazz_contract::jazz::common::v1::SubscriptionTier;
use jazz_e2e::LoneService;
use jazz_platform::ServiceName;
use jazz_platform::ids::{new_id, to_api};
use jazz_platform::testing::TestDatabase;
use stripe::{ORIGIN, StripeStandIn, WEBHOOK_SECRET, event, seconds, signature, subscription};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use uuid::Uuid;

const PRO_PRICE: &str = "price_jazzmaster_pro_monthly";

/// Billing alone, talking to a Stripe stand-in.
struct Billing {
    db: TestDatabase,
    service: LoneService,
    stripe: StripeStandIn,
    /// Whether billing has a Stripe secret key.
    secret: bool,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    t: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Billing {
    /// Billing with Stripe configured (`secret`) or without a secret key.
    async fn start(secret: bool) -> anyhow::Result<Self> {
        let stripe = StripeStandIn::start().await?;
        let db = TestDatabase::migrated(ServiceName::Billing, billing::MIGRATIONS).await?;
        let service = jazz_e2e::billing_alone(&db, stripe::billing_options(&stripe, secret)?).await?;
        Ok(Self { db, service, stripe, secret })
    }

    fn as_user<T>(&self, user: &User, message: T) -> Request<T> {
        user.signed(message)
    }

    fn as_service<T>(&self, service: &str, message: T) -> Request<T> {
        jazz_e2e::as_service(service, message)
    }

    fn internal(&self) -> BillingInternalServiceClient<Channel> {
        BillingInternalServiceClient::new(self.service.channel.clone())
    }

    fn public(&self) -> BillingServiceClient<Channel> {
        BillingServiceClient::new(self.service.channel.clone())
    }

    async fn purge(&self, event_id: &str, user_id: &str) -> Result<PurgeUserResponse, Status> {
        let request = PurgeUserRequest { event_id: event_id.into(), user_id: user_id.into(), ..Default::default() };
        self.internal().purge_user(self.as_service("identity", request)).await.map(tonic::Response::into_inner)
    }

    /// A user with the FREE row, a usage record and a replayed checkout.
    async fn free_user(&self) -> anyhow::Result<User> {
        let user = User::new();
        self.public().get_subscription(self.as_user(&user, GetSubscriptionRequest {})).await?;
        let consume = ConsumeQuotaRequest {
            user_id: user.api(),
            feature: "ai_generation".into(),
            quantity: 1,
            idempotency_key: format!("content:generate:{}", user.api()),
        };
        self.internal().consume_quota(self.as_service("content", consume)).await?;
        Ok(user)
    }

    /// A user who checked out and whose PRO subscription `stripe_id` is
    /// linked and live (by a signed webhook), set to cancel at period end,
    /// with one failed checkout's open reservations left over.
    async fn paid_user(&self, stripe_id: &str) -> anyhow::Result<User> {
        let user = self.free_user().await?;
        let checkout = StartCheckoutRequest {
            tier: SubscriptionTier::Pro as i32,
            success_url: format!("{ORIGIN}/billing/done"),
            cancel_url: format!("{ORIGIN}/billing/cancel"),
            request_id: "checkout-1".into(),
        };
        // Without a secret key there is no checkout: the webhook alone links it.
        if self.secret {
            self.public().start_checkout(self.as_user(&user, checkout.clone())).await?;
            self.stripe.fail_with(Some(503));
            let down = StartCheckoutRequest { request_id: "checkout-down".into(), ..checkout };
            let failed = self.public().start_checkout(self.as_user(&user, down)).await.err();
            self.stripe.fail_with(None);
            assert_eq!(failed.as_ref().map(Status::code), Some(Code::Unavailable));
        }
        let body = event(
            &format!("evt_{stripe_id}"),
            "customer.subscription.created",
            seconds(),
            subscription(stripe_id, &format!("cus_{stripe_id}"), &user.api(), PRO_PRICE, "active", false),
        );
        let header = signature(&body, WEBHOOK_SECRET, seconds())?;
        let webhook = HandleStripeEventRequest { payload: body, signature_header: header };
        self.internal().handle_stripe_event(self.as_service("gateway", webhook)).await?;
        if self.secret {
            self.public().cancel_subscription(self.as_user(&user, CancelSubscriptionRequest {})).await?;
        }
        Ok(user)
    }

    async fn sql(&self) -> anyhow::Result<AsyncPgConnection> {
        self.db.connect().await
    }

    async fn tables(&self, conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<String>> {
        let tables: Vec<Name> = diesel::sql_query(
            "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             AND c.relname <> '__diesel_schema_migrations' ORDER BY 1",
        )
        .load(conn)
        .await?;
        Ok(tables.into_iter().map(|t| t.name).collect())
    }

    /// Every row (as text, with its table) that mentions `user` in its
    /// uuid or ULID form, plus stored replay answers holding the ULID.
    async fn traces(&self, user: Uuid) -> anyhow::Result<Vec<String>> {
        let mut conn = self.sql().await?;
        let mut rows = Vec::new();
        for table in self.tables(&mut conn).await? {
            let sql = format!(
                "SELECT '{0}: ' || t::text AS t FROM \"{0}\" t \
                 WHERE t::text ILIKE '%' || $1 || '%' OR t::text ILIKE '%' || $2 || '%' ORDER BY 1",
                table
            );
            let found: Vec<Row> = diesel::sql_query(sql)
                .bind::<Text, _>(user.to_string())
                .bind::<Text, _>(to_api(user))
                .load(&mut conn)
                .await?;
            rows.extend(found.into_iter().map(|r| r.t));
        }
        let replies: Vec<Row> = diesel::sql_query(
            "SELECT 'reply: ' || scope || '/' || key AS t FROM idempotency_keys \
             WHERE position(convert_to($1, 'UTF8') IN response) > 0 ORDER BY 1",
        )
        .bind::<Text, _>(to_api(user))
        .load(&mut conn)
        .await?;
        rows.extend(replies.into_iter().map(|r| r.t));
        Ok(rows)
    }

    /// Every row of every table, as text, sorted.
    async fn everything(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.sql().await?;
        let mut rows = Vec::new();
        for table in self.tables(&mut conn).await? {
            let sql = format!("SELECT '{0}: ' || t::text AS t FROM \"{0}\" t ORDER BY 1", table);
            let found: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await?;
            rows.extend(found.into_iter().map(|r| r.t));
        }
        Ok(rows)
    }

    async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        let row: Count = diesel::sql_query(sql).get_result(&mut self.sql().await?).await?;
        Ok(row.n)
    }

    /// Waits until billing's relay has handled every outbox event (it
    /// changes their rows in the background).
    async fn settle(&self) -> anyhow::Result<()> {
        for _ in 0..100 {
            if self.count("SELECT count(*) AS n FROM outbox_events WHERE status = 'pending'").await? == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("billing's outbox did not drain")
    }

    async fn has_subscription(&self, user: &User) -> Result<bool, Status> {
        let request = GetUserSubscriptionRequest { user_id: user.api() };
        match self.internal().get_user_subscription(self.as_service("identity", request)).await {
            Ok(_) => Ok(true),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(status),
        }
    }
}

#[tokio::test]
async fn purge_leaves_no_row_that_mentions_the_user_and_keeps_other_users_rows() -> anyhow::Result<()> {
    let billing = Billing::start(true).await?;
    let user = billing.paid_user("sub_purged").await?;
    let other = billing.paid_user("sub_other").await?;
    let free = billing.free_user().await?;
    billing.settle().await?;
    let before = billing.traces(user.id()).await?;
    // Every kind of row is there to be found: subscription, usage, audit,
    // outbox, replay and Stripe key rows.
    for table in ["subscriptions: ", "usage_records: ", "audit_logs: ", "outbox_events: ", "idempotency_keys: "] {
        assert!(before.iter().any(|row| row.starts_with(table)), "no {table} row before: {before:#?}");
    }
    let others_before = (billing.traces(other.id()).await?, billing.traces(free.id()).await?);
    let audit_rows = billing.count("SELECT count(*) AS n FROM audit_logs").await?;

    let event_id = to_api(new_id());
    let answer = billing.purge(&event_id, &user.api()).await?;
    assert!(!answer.duplicate);

    assert_eq!(billing.traces(user.id()).await?, Vec::<String>::new());
    assert!(!billing.has_subscription(&user).await?);
    // The user's audit rows stay, anonymised, with one more that names nobody.
    assert_eq!(billing.count("SELECT count(*) AS n FROM audit_logs").await?, audit_rows + 1);
    let purge_entries = "SELECT count(*) AS n FROM audit_logs WHERE action = 'USER_PURGE' AND entity_id IS NULL \
                         AND user_id IS NULL AND ip_address IS NULL";
    assert_eq!(billing.count(purge_entries).await?, 1);
    // The subscription was canceled at Stripe, at once, once.
    let deletes: Vec<_> = billing.stripe.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].path, "/v1/subscriptions/sub_purged");
    assert_eq!(deletes[0].authorization.as_deref(), Some(format!("Bearer {}", stripe::SECRET_KEY).as_str()));
    assert!(deletes[0].idempotency_key.as_deref().is_some_and(|k| k.contains(&event_id)), "{deletes:?}");

    // The others are exactly as they were.
    billing.settle().await?;
    assert_eq!((billing.traces(other.id()).await?, billing.traces(free.id()).await?), others_before);
    assert!(billing.has_subscription(&other).await? && billing.has_subscription(&free).await?);
    Ok(())
}

#[tokio::test]
async fn a_replayed_purge_answers_duplicate_and_changes_nothing() -> anyhow::Result<()> {
    let billing = Billing::start(true).await?;
    let user = billing.paid_user("sub_replayed").await?;
    let _other = billing.paid_user("sub_bystander").await?;
    let event_id = to_api(new_id());
    assert!(!billing.purge(&event_id, &user.api()).await?.duplicate);
    billing.settle().await?;
    let after = billing.everything().await?;
    let calls = billing.stripe.requests().len();

    let again = billing.purge(&event_id, &user.api()).await?;
    assert!(again.duplicate);
    assert_eq!(billing.everything().await?, after);
    assert_eq!(billing.stripe.requests().len(), calls, "a replay calls Stripe again");

    // Another event for the purged user finds nothing left to delete.
    assert!(!billing.purge(&to_api(new_id()), &user.api()).await?.duplicate);
    assert_eq!(billing.stripe.requests().len(), calls);
    assert_eq!(billing.traces(user.id()).await?, Vec::<String>::new());
    Ok(())
}

#[tokio::test]
async fn stripe_down_answers_unavailable_and_deletes_nothing_until_the_retry() -> anyhow::Result<()> {
    let billing = Billing::start(true).await?;
    let user = billing.paid_user("sub_down").await?;
    billing.settle().await?;
    let before = billing.everything().await?;
    let event_id = to_api(new_id());

    billing.stripe.fail_with(Some(503));
    let status = billing.purge(&event_id, &user.api()).await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::Unavailable));
    assert!(status.as_ref().is_some_and(|s| !s.message().contains("stand-in")));
    assert_eq!(billing.everything().await?, before, "a failed purge changed rows");
    assert!(billing.has_subscription(&user).await?);

    // The relay's retry, Stripe back: purged, the same key sent again.
    billing.stripe.fail_with(None);
    assert!(!billing.purge(&event_id, &user.api()).await?.duplicate);
    assert_eq!(billing.traces(user.id()).await?, Vec::<String>::new());
    let keys: Vec<_> = billing
        .stripe
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| (r.path, r.idempotency_key))
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[0].0, "/v1/subscriptions/sub_down");
    Ok(())
}

#[tokio::test]
async fn without_stripe_a_free_user_is_purged_and_a_paid_one_waits() -> anyhow::Result<()> {
    let billing = Billing::start(false).await?;
    let free = billing.free_user().await?;
    let paid = billing.paid_user("sub_unconfigured").await?;
    billing.settle().await?;

    assert!(!billing.purge(&to_api(new_id()), &free.api()).await?.duplicate);
    assert_eq!(billing.traces(free.id()).await?, Vec::<String>::new());

    // A live Stripe subscription cannot be canceled: nothing is deleted.
    billing.settle().await?;
    let before = billing.everything().await?;
    let status = billing.purge(&to_api(new_id()), &paid.api()).await.err();
    assert_eq!(status.as_ref().map(Status::code), Some(Code::Unavailable));
    assert_eq!(billing.everything().await?, before);
    assert!(billing.stripe.requests().is_empty());
    Ok(())
}

#[tokio::test]
async fn bad_ids_name_the_field_and_only_services_may_purge() -> anyhow::Result<()> {
    let billing = Billing::start(true).await?;
    let user = billing.free_user().await?;
    billing.settle().await?;
    let before = billing.everything().await?;
    let event_id = to_api(new_id());
    let cases = [
        ("", user.api(), vec!["event_id"]),
        ("not-a-ulid", user.api(), vec!["event_id"]),
        (event_id.as_str(), String::new(), vec!["user_id"]),
        (event_id.as_str(), user.id().to_string(), vec!["user_id"]),
        ("x", "y".to_owned(), vec!["event_id", "user_id"]),
    ];
    for (event, user_id, fields) in cases {
        let status = billing.purge(event, &user_id).await.err();
        assert_eq!(status.as_ref().map(Status::code), Some(Code::InvalidArgument), "{event} {user_id}");
        assert_eq!(status.as_ref().map(bad_fields).unwrap_or_default(), fields, "{event} {user_id}");
    }

    // The user themself (or anyone not a service) is refused.
    let request = PurgeUserRequest { event_id: event_id.clone(), user_id: user.api(), ..Default::default() };
    let refused = billing.internal().purge_user(billing.as_user(&user, request)).await.err();
    assert_eq!(refused.as_ref().map(Status::code), Some(Code::PermissionDenied));
    let anonymous = billing
        .internal()
        .purge_user(PurgeUserRequest { event_id, user_id: user.api(), ..Default::default() })
        .await
        .err();
    assert!(anonymous.is_some_and(|s| matches!(s.code(), Code::Unauthenticated | Code::PermissionDenied)));
    assert_eq!(billing.everything().await?, before);
    assert!(billing.has_subscription(&user).await?);
    Ok(())
}
