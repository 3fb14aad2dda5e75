//! What several handlers share inside their transaction: the user's
//! subscription (created FREE on first use); its read-time view
//! is `domain::subscription::View`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::ids::{new_id, to_api};
use uuid::Uuid;

use crate::domain::period::calendar_month;
use crate::domain::tier::{Status, Tier};
use crate::error::BillingError;
use crate::store::models::{NewSubscription, SubscriptionRow};
use crate::store::subscriptions;

/// Makes the user's FREE/ACTIVE subscription, anchored at `signed_up`,
/// unless a live one exists; audits the creation. True when created.
pub async fn ensure_subscription(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    user_id: Uuid,
    signed_up: DateTime<Utc>,
) -> Result<bool, BillingError> {
    let period = calendar_month(signed_up).ok_or(BillingError::PeriodOutOfRange)?;
    let row = NewSubscription {
        id: new_id(),
        user_id,
        status: Status::Active.as_str(),
        tier: Tier::Free.as_str(),
        current_period_start: period.start,
        current_period_end: period.end,
        created_at: signed_up,
    };
    let created = subscriptions::insert_if_missing(conn, &row).await?;
    if created {
        let new = serde_json::json!({"tier": row.tier, "status": row.status, "user_id": to_api(user_id)});
        AuditEntry::new(principal, "CREATE", "subscriptions", Some(to_api(row.id)))
            .by_user(user_id)
            .with_change(None, Some(new))
            .write(conn)
            .await?;
    }
    Ok(created)
}

/// The user's live subscription, made FREE first if missing; locked
/// `FOR UPDATE` when `lock` (quota consumers).
pub async fn subscription_of(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    user_id: Uuid,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<SubscriptionRow, BillingError> {
    ensure_subscription(conn, principal, user_id, now).await?;
    let row = if lock {
        subscriptions::lock_live(conn, user_id).await?
    } else {
        subscriptions::find_live(conn, user_id).await?
    };
    // Just ensured in this transaction; missing only if deleted meanwhile.
    row.ok_or(BillingError::SubscriptionNotFound)
}
