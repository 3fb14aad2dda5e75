//! The one live subscription per user (`idx_subscriptions_user_id_live`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{NewSubscription, StripeState, SubscriptionRow};
use crate::schema::subscriptions;

/// Inserts `row` unless the user already has a live subscription; true when
/// inserted. Concurrent callers wait on the unique index, then do nothing.
pub async fn insert_if_missing(conn: &mut AsyncPgConnection, row: &NewSubscription) -> QueryResult<bool> {
    let inserted = diesel::insert_into(subscriptions::table)
        .values(row)
        .on_conflict(subscriptions::user_id)
        .filter_target(subscriptions::deleted_at.is_null())
        .do_nothing()
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// The user's live subscription.
pub async fn find_live(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Option<SubscriptionRow>> {
    subscriptions::table
        .filter(subscriptions::user_id.eq(user_id).and(subscriptions::deleted_at.is_null()))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The user's live subscription, locked `FOR UPDATE` until the transaction
/// ends: every consumer of one user queues here, different users never meet.
pub async fn lock_live(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Option<SubscriptionRow>> {
    subscriptions::table
        .filter(subscriptions::user_id.eq(user_id).and(subscriptions::deleted_at.is_null()))
        .select(SubscriptionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Sets `cancel_at_period_end` and `canceled_at`; returns the new row.
pub async fn set_cancel(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    cancel: bool,
    canceled_at: Option<DateTime<Utc>>,
) -> QueryResult<SubscriptionRow> {
    diesel::update(subscriptions::table.find(id))
        .set((subscriptions::cancel_at_period_end.eq(cancel), subscriptions::canceled_at.eq(canceled_at)))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)
        .await
}

/// Like [`set_cancel`], after Stripe confirmed the change: also stores
/// `newest_event_at`, so events created before then (older than this state)
/// are ignored.
pub async fn set_cancel_confirmed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    cancel: bool,
    canceled_at: Option<DateTime<Utc>>,
    newest_event_at: Option<DateTime<Utc>>,
) -> QueryResult<SubscriptionRow> {
    diesel::update(subscriptions::table.find(id))
        .set((
            subscriptions::cancel_at_period_end.eq(cancel),
            subscriptions::canceled_at.eq(canceled_at),
            subscriptions::last_stripe_event_at.eq(newest_event_at),
        ))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)
        .await
}

/// The live subscription linked to a Stripe subscription, locked.
pub async fn lock_by_stripe_subscription(
    conn: &mut AsyncPgConnection,
    stripe_subscription_id: &str,
) -> QueryResult<Option<SubscriptionRow>> {
    subscriptions::table
        .filter(subscriptions::stripe_subscription_id.eq(stripe_subscription_id))
        .filter(subscriptions::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The live subscription of a Stripe customer, locked.
pub async fn lock_by_customer(conn: &mut AsyncPgConnection, customer: &str) -> QueryResult<Option<SubscriptionRow>> {
    subscriptions::table
        .filter(subscriptions::stripe_customer_id.eq(customer))
        .filter(subscriptions::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Records the user's Stripe customer unless one is recorded already;
/// true when it was set.
pub async fn set_customer(conn: &mut AsyncPgConnection, id: Uuid, customer: &str) -> QueryResult<bool> {
    let updated = diesel::update(subscriptions::table.find(id))
        .filter(subscriptions::stripe_customer_id.is_null())
        .set(subscriptions::stripe_customer_id.eq(customer))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// Links a Stripe subscription (checkout completed); returns the new row.
pub async fn set_stripe_subscription(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    stripe_subscription_id: &str,
) -> QueryResult<SubscriptionRow> {
    diesel::update(subscriptions::table.find(id))
        .set(subscriptions::stripe_subscription_id.eq(stripe_subscription_id))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)
        .await
}

/// Mirrors Stripe's state; returns the new row.
pub async fn apply_stripe_state(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    state: &StripeState,
) -> QueryResult<SubscriptionRow> {
    diesel::update(subscriptions::table.find(id))
        .set(state)
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)
        .await
}

/// Sets the status after an invoice event at `at`; returns the new row.
pub async fn set_status_from_stripe(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    status: &str,
    at: DateTime<Utc>,
) -> QueryResult<SubscriptionRow> {
    diesel::update(subscriptions::table.find(id))
        .set((subscriptions::status.eq(status), subscriptions::last_stripe_event_at.eq(Some(at))))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)
        .await
}

/// A count per tier.
#[derive(Debug, QueryableByName)]
pub struct TierCount {
    /// `FREE`, `PRO` or `EDUCATOR`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub tier: String,
    /// How many.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub count: i64,
}

/// Subscriptions that moved from FREE to a paid tier during `[from, to)`,
/// per new tier, read from the audit entries the Stripe webhook writes with
/// each change (the row keeps only its present tier).
pub async fn upgraded_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<TierCount>> {
    diesel::sql_query(
        "SELECT new_data->>'tier' AS tier, count(DISTINCT entity_id) AS count FROM audit_logs \
         WHERE created_at >= $1 AND created_at < $2 AND entity = 'subscriptions' AND action = 'STRIPE_EVENT' \
           AND old_data->>'tier' = 'FREE' AND new_data->>'tier' <> 'FREE' \
         GROUP BY 1 ORDER BY 1",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(from)
    .bind::<diesel::sql_types::Timestamptz, _>(to)
    .load(conn)
    .await
}

/// Subscriptions canceled during `[from, to)`, per tier.
pub async fn canceled_between(
    conn: &mut AsyncPgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<TierCount>> {
    use crate::schema::subscriptions as s;
    let rows: Vec<(String, i64)> = s::table
        .filter(s::canceled_at.ge(from).and(s::canceled_at.lt(to)))
        .group_by(s::tier)
        .select((s::tier, diesel::dsl::count_star()))
        .order(s::tier)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(tier, count)| TierCount { tier, count }).collect())
}
