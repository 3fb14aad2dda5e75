//! Erasure of a purged user (identity's `user_purged`): every billing row
//! that holds the user's id — subscriptions (all of them, soft-deleted
//! ones too), their usage records, the Stripe Idempotency-Key reservations
//! of those subscriptions and billing's own outbox events about the user.
//! Replay rows and audit traces are forgotten with the platform helpers.
//! The handler owns the transaction and records the event id in it.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::schema::idempotency_keys as ik;
use uuid::Uuid;

use crate::domain::tier::Status;
use crate::schema::{subscriptions as s, usage_records as u};

/// A subscription of the user that Stripe may still bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billable {
    /// Our subscription row.
    pub id: Uuid,
    /// Stripe's `sub_…`.
    pub stripe_subscription_id: String,
}

/// What a user's purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgedUser {
    /// Subscription rows.
    pub subscriptions: usize,
    /// Usage records of those subscriptions.
    pub usage_records: usize,
    /// Stripe Idempotency-Key reservations of those subscriptions.
    pub stripe_keys: usize,
}

/// The user's subscriptions linked to a Stripe subscription that is not
/// yet canceled (any row, live or soft-deleted), locked `FOR UPDATE` when
/// `lock`, so a webhook cannot link another one until the transaction ends.
pub async fn billable_at_stripe(conn: &mut AsyncPgConnection, user: Uuid, lock: bool) -> QueryResult<Vec<Billable>> {
    let query = s::table
        .filter(s::user_id.eq(user))
        .filter(s::stripe_subscription_id.is_not_null())
        .filter(s::status.ne(Status::Canceled.as_str()))
        .select((s::id, s::stripe_subscription_id))
        .order(s::id);
    let rows: Vec<(Uuid, Option<String>)> =
        if lock { query.for_update().load(conn).await? } else { query.load(conn).await? };
    Ok(rows
        .into_iter()
        .filter_map(|(id, stripe)| stripe.map(|stripe_subscription_id| Billable { id, stripe_subscription_id }))
        .collect())
}

/// Deletes every subscription of `user` with its usage records and its
/// Stripe key reservations (scopes made by `key_scope` from the
/// subscription id). The platform tables are `jazz_platform::erasure`'s.
pub async fn purge_user(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    key_scope: impl Fn(Uuid) -> String,
) -> QueryResult<PurgedUser> {
    let ids: Vec<Uuid> = s::table.filter(s::user_id.eq(user)).select(s::id).for_update().load(conn).await?;
    let usage_records = diesel::delete(u::table.filter(u::subscription_id.eq_any(&ids))).execute(conn).await?;
    let scopes: Vec<String> = ids.iter().map(|id| key_scope(*id)).collect();
    let stripe_keys = diesel::delete(ik::table.filter(ik::scope.eq_any(scopes))).execute(conn).await?;
    let subscriptions = diesel::delete(s::table.filter(s::id.eq_any(&ids))).execute(conn).await?;
    Ok(PurgedUser { subscriptions, usage_records, stripe_keys })
}
