//! Rows as diesel reads and writes them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{plans, subscriptions, usage_records};

/// A row of `plans`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = plans, check_for_backend(diesel::pg::Pg))]
pub struct PlanRow {
    /// `FREE`, `PRO` or `EDUCATOR`.
    pub tier: String,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: Option<String>,
    /// Stripe price id.
    pub stripe_price_id: Option<String>,
    /// Minor units.
    pub price_amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `month` or `year`.
    pub billing_interval: String,
    /// Feature → limit or null.
    pub entitlements: serde_json::Value,
}

/// A row of `subscriptions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions, check_for_backend(diesel::pg::Pg))]
pub struct SubscriptionRow {
    /// ULID.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// Stripe customer (made by the first StartCheckout).
    pub stripe_customer_id: Option<String>,
    /// Stripe subscription (linked by webhooks).
    pub stripe_subscription_id: Option<String>,
    /// Stripe price in force.
    pub stripe_price_id: Option<String>,
    /// One of the six statuses.
    pub status: String,
    /// The tier paid for.
    pub tier: String,
    /// Period start as last stored (Stripe's for paid tiers).
    pub current_period_start: Option<DateTime<Utc>>,
    /// Period end as last stored.
    pub current_period_end: Option<DateTime<Utc>>,
    /// Ends at the period end.
    pub cancel_at_period_end: bool,
    /// When cancellation was requested.
    pub canceled_at: Option<DateTime<Utc>>,
    /// Trial start.
    pub trial_start: Option<DateTime<Utc>>,
    /// Trial end.
    pub trial_end: Option<DateTime<Utc>>,
    /// `created` of the newest Stripe event applied.
    pub last_stripe_event_at: Option<DateTime<Utc>>,
    /// Row creation (the FREE anchor).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A subscription's state as Stripe reports it (every field written, so
/// the row mirrors Stripe's object).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = subscriptions, treat_none_as_null = true)]
pub struct StripeState {
    /// Stripe customer.
    pub stripe_customer_id: Option<String>,
    /// Stripe subscription.
    pub stripe_subscription_id: Option<String>,
    /// Stripe price in force.
    pub stripe_price_id: Option<String>,
    /// Stored status.
    pub status: String,
    /// Stored tier.
    pub tier: String,
    /// Current period start.
    pub current_period_start: Option<DateTime<Utc>>,
    /// Current period end.
    pub current_period_end: Option<DateTime<Utc>>,
    /// Ends at the period end.
    pub cancel_at_period_end: bool,
    /// When cancellation was requested.
    pub canceled_at: Option<DateTime<Utc>>,
    /// Trial start.
    pub trial_start: Option<DateTime<Utc>>,
    /// Trial end.
    pub trial_end: Option<DateTime<Utc>>,
    /// The event's `created`.
    pub last_stripe_event_at: Option<DateTime<Utc>>,
}

/// A new FREE subscription.
#[derive(Debug, Insertable)]
#[diesel(table_name = subscriptions)]
pub struct NewSubscription {
    /// ULID.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// `ACTIVE`.
    pub status: &'static str,
    /// `FREE`.
    pub tier: &'static str,
    /// The first period's start.
    pub current_period_start: DateTime<Utc>,
    /// The first period's end.
    pub current_period_end: DateTime<Utc>,
    /// Sign-up time (the period anchor).
    pub created_at: DateTime<Utc>,
}

/// A row of `usage_records`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = usage_records, check_for_backend(diesel::pg::Pg))]
pub struct UsageRow {
    /// ULID.
    pub id: Uuid,
    /// The subscription charged.
    pub subscription_id: Uuid,
    /// The feature.
    pub feature: String,
    /// Units.
    pub quantity: i32,
    /// The answer given (`remaining`, `unlimited`), replayed for the key.
    pub metadata: Option<serde_json::Value>,
    /// When consumed.
    pub recorded_at: DateTime<Utc>,
    /// The caller's key.
    pub idempotency_key: String,
    /// When given back.
    pub refunded_at: Option<DateTime<Utc>>,
}

/// A new grant.
#[derive(Debug, Insertable)]
#[diesel(table_name = usage_records)]
pub struct NewUsage<'a> {
    /// ULID.
    pub id: Uuid,
    /// The subscription charged.
    pub subscription_id: Uuid,
    /// The feature.
    pub feature: &'a str,
    /// Units.
    pub quantity: i32,
    /// The answer given.
    pub metadata: serde_json::Value,
    /// When consumed (the same clock the period was computed with).
    pub recorded_at: DateTime<Utc>,
    /// The caller's key.
    pub idempotency_key: &'a str,
}
