//! Metered use. Sums count rows of the period that were not refunded
//! (`idx_usage_records_subscription_id_feature_recorded_at`, index-only).

use chrono::{DateTime, Utc};
use diesel::dsl::sum;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::models::{NewUsage, UsageRow};
use crate::domain::period::Period;
use crate::schema::usage_records;

/// The grant made with `key` on the subscription, refunded or not.
pub async fn find_by_key(
    conn: &mut AsyncPgConnection,
    subscription_id: Uuid,
    key: &str,
) -> QueryResult<Option<UsageRow>> {
    usage_records::table
        .filter(usage_records::subscription_id.eq(subscription_id).and(usage_records::idempotency_key.eq(key)))
        .select(UsageRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Units of `feature` used in `period` (refunds excluded).
pub async fn used(
    conn: &mut AsyncPgConnection,
    subscription_id: Uuid,
    feature: &str,
    period: Period,
) -> QueryResult<i64> {
    let total: Option<i64> = usage_records::table
        .filter(usage_records::subscription_id.eq(subscription_id))
        .filter(usage_records::feature.eq(feature))
        .filter(usage_records::recorded_at.ge(period.start).and(usage_records::recorded_at.lt(period.end)))
        .filter(usage_records::refunded_at.is_null())
        .select(sum(usage_records::quantity))
        .first(conn)
        .await?;
    Ok(total.unwrap_or(0))
}

/// Units used in `period` per feature (refunds excluded), in one query.
pub async fn used_by_feature(
    conn: &mut AsyncPgConnection,
    subscription_id: Uuid,
    period: Period,
) -> QueryResult<Vec<(String, Option<i64>)>> {
    usage_records::table
        .filter(usage_records::subscription_id.eq(subscription_id))
        .filter(usage_records::recorded_at.ge(period.start).and(usage_records::recorded_at.lt(period.end)))
        .filter(usage_records::refunded_at.is_null())
        .group_by(usage_records::feature)
        .select((usage_records::feature, sum(usage_records::quantity)))
        .load(conn)
        .await
}

/// Records a grant.
pub async fn insert(conn: &mut AsyncPgConnection, row: &NewUsage<'_>) -> QueryResult<()> {
    diesel::insert_into(usage_records::table).values(row).execute(conn).await.map(drop)
}

/// Grants a refunded key afresh: the row counts again from `now`.
pub async fn regrant(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    answer: serde_json::Value,
) -> QueryResult<()> {
    diesel::update(usage_records::table.find(id))
        .set((
            usage_records::refunded_at.eq(None::<DateTime<Utc>>),
            usage_records::recorded_at.eq(now),
            usage_records::metadata.eq(Some(answer)),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Marks the grant with `key` refunded if it is not yet; returns the
/// refunded row, or `None` when there was nothing (left) to refund.
pub async fn refund(
    conn: &mut AsyncPgConnection,
    subscription_id: Uuid,
    key: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<UsageRow>> {
    diesel::update(usage_records::table)
        .filter(usage_records::subscription_id.eq(subscription_id))
        .filter(usage_records::idempotency_key.eq(key))
        .filter(usage_records::refunded_at.is_null())
        .set(usage_records::refunded_at.eq(Some(now)))
        .returning(UsageRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}
