//! ConsumeQuota and RefundQuota. Check and consume happen in one
//! transaction under the subscription's row lock (`SELECT … FOR UPDATE`),
//! so concurrent consumers of one user are serialised and can never
//! overspend; the usage row, its unique key and the audit entry are written
//! in the same transaction.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1::{
    ConsumeQuotaRequest, ConsumeQuotaResponse, RefundQuotaRequest, RefundQuotaResponse,
};
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::{new_id, parse_id, to_api};
use jazz_platform::{DbPool, Principal};
use serde_json::json;
use uuid::Uuid;

use super::account::subscription_of;
use super::plans::Plans;
use crate::domain::quota::{Decision, decide};
use crate::domain::request;
use crate::domain::subscription::View;
use crate::error::BillingError;
use crate::store::models::{NewUsage, UsageRow};
use crate::store::{subscriptions, usage};

/// A validated ConsumeQuota request.
struct Consume {
    user_id: Uuid,
    feature: String,
    quantity: i32,
    key: String,
}

fn parse(request: ConsumeQuotaRequest) -> Result<Consume, BillingError> {
    let ConsumeQuotaRequest { user_id, feature, quantity, idempotency_key } = request;
    let mut violations = Violations::new();
    let user_id = violations.check(parse_id("user_id", &user_id));
    let feature = violations.check(request::feature(&feature));
    let quantity = violations.check(request::quantity(quantity));
    let key = violations.check(request::idempotency_key(&idempotency_key));
    violations.finish().map_err(BillingError::Invalid)?;
    match (user_id, feature, quantity, key) {
        (Some(user_id), Some(feature), Some(quantity), Some(key)) => Ok(Consume { user_id, feature, quantity, key }),
        // finish() refused every None above; kept total without a panic.
        _ => Err(BillingError::Invalid(Vec::new())),
    }
}

/// The answer stored with a grant, so a replay repeats it.
fn answer(remaining: i64, unlimited: bool) -> serde_json::Value {
    json!({"remaining": remaining, "unlimited": unlimited})
}

fn replay(row: &UsageRow) -> ConsumeQuotaResponse {
    let stored = row.metadata.as_ref();
    ConsumeQuotaResponse {
        granted: true,
        remaining: stored.and_then(|m| m["remaining"].as_i64()).unwrap_or(0),
        unlimited: stored.and_then(|m| m["unlimited"].as_bool()).unwrap_or(false),
        usage_record_id: to_api(row.id),
        replayed: true,
    }
}

/// `BillingInternalService.ConsumeQuota`.
#[tracing::instrument(name = "consume_quota", skip_all)]
pub async fn consume(
    pool: &DbPool,
    plans: &Plans,
    principal: &Principal,
    request: ConsumeQuotaRequest,
) -> Result<ConsumeQuotaResponse, BillingError> {
    let Consume { user_id, feature, quantity, key } = parse(request)?;
    let now = Utc::now();
    let mut conn = pool.get().await?;
    conn.transaction(async |conn| {
        let catalogue = plans.current(conn).await?;
        if !catalogue.knows(&feature) {
            return Err(BillingError::field("feature", "is not a feature of any plan"));
        }
        let row = subscription_of(conn, principal, user_id, now, true).await?;
        let view = View::at(row, &catalogue, now)?;
        let earlier = usage::find_by_key(conn, view.row.id, &key).await?;
        if let Some(earlier) = &earlier {
            if earlier.feature != feature || earlier.quantity != quantity {
                return Err(BillingError::KeyReused);
            }
            if earlier.refunded_at.is_none() {
                return Ok(replay(earlier));
            }
            // A refunded grant is consumed afresh (the proto's rule).
        }
        let limit = catalogue.limit(view.effective, &feature);
        let used = usage::used(conn, view.row.id, &feature, view.period).await?;
        let (remaining, unlimited) = match decide(limit, used, i64::from(quantity)) {
            Decision::Granted { remaining, unlimited } => (remaining, unlimited),
            Decision::Exceeded { limit } => {
                return Err(BillingError::QuotaExceeded { user_id, feature, limit, used, period_end: view.period.end });
            }
            Decision::NotIncluded => {
                return Err(BillingError::FeatureNotIncluded { user_id, feature, tier: view.effective });
            }
        };
        let id = match earlier {
            Some(earlier) => {
                usage::regrant(conn, earlier.id, now, answer(remaining, unlimited)).await?;
                earlier.id
            }
            None => {
                let row = NewUsage {
                    id: new_id(),
                    subscription_id: view.row.id,
                    feature: &feature,
                    quantity,
                    metadata: answer(remaining, unlimited),
                    recorded_at: now,
                    idempotency_key: &key,
                };
                usage::insert(conn, &row).await?;
                row.id
            }
        };
        let new = json!({"feature": feature, "quantity": quantity, "idempotency_key": key, "remaining": remaining,
                         "unlimited": unlimited, "tier": view.effective.as_str()});
        AuditEntry::new(principal, "QUOTA_CONSUME", "usage_records", Some(to_api(id)))
            .by_user(user_id)
            .with_change(None, Some(new))
            .write(conn)
            .await?;
        Ok(ConsumeQuotaResponse { granted: true, remaining, unlimited, usage_record_id: to_api(id), replayed: false })
    })
    .await
}

/// `BillingInternalService.RefundQuota`: refunding twice refunds once.
pub async fn refund(
    pool: &DbPool,
    principal: &Principal,
    request: RefundQuotaRequest,
) -> Result<RefundQuotaResponse, BillingError> {
    let RefundQuotaRequest { user_id, idempotency_key } = request;
    let mut violations = Violations::new();
    let user_id = violations.check(parse_id("user_id", &user_id));
    let key = violations.check(request::idempotency_key(&idempotency_key));
    violations.finish().map_err(BillingError::Invalid)?;
    let (Some(user_id), Some(key)) = (user_id, key) else { return Err(BillingError::Invalid(Vec::new())) };
    let now: DateTime<Utc> = Utc::now();
    let mut conn = pool.get().await?;
    conn.transaction(async |conn| {
        let subscription = subscriptions::find_live(conn, user_id).await?.ok_or(BillingError::GrantNotFound)?;
        if let Some(row) = usage::refund(conn, subscription.id, &key, now).await? {
            let old = json!({"refunded_at": null});
            let new = json!({"refunded_at": now, "feature": row.feature, "quantity": row.quantity});
            AuditEntry::new(principal, "QUOTA_REFUND", "usage_records", Some(to_api(row.id)))
                .by_user(user_id)
                .with_change(Some(old), Some(new))
                .write(conn)
                .await?;
            return Ok(RefundQuotaResponse { refunded: true, quantity: i64::from(row.quantity) });
        }
        let earlier = usage::find_by_key(conn, subscription.id, &key).await?.ok_or(BillingError::GrantNotFound)?;
        Ok(RefundQuotaResponse { refunded: false, quantity: i64::from(earlier.quantity) })
    })
    .await
}
