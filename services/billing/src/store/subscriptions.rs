//! The one live subscription per user (`idx_subscriptions_user_id_live`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{NewSubscription, SubscriptionRow};
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
