//! Identity's own audit log, read newest first for the admin trail (the
//! same query as billing's `store::audit`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jazz_platform::schema::audit_logs;
use uuid::Uuid;

/// A row of `audit_logs`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_logs, check_for_backend(diesel::pg::Pg))]
pub struct AuditRow {
    /// ULID.
    pub id: Uuid,
    /// The user concerned.
    pub user_id: Option<Uuid>,
    /// What happened.
    pub action: String,
    /// The table.
    pub entity: String,
    /// The row's id.
    pub entity_id: Option<String>,
    /// Before.
    pub old_data: Option<serde_json::Value>,
    /// After.
    pub new_data: Option<serde_json::Value>,
    /// Context.
    pub metadata: Option<serde_json::Value>,
    /// Client address.
    pub ip_address: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// What to list.
#[derive(Debug, Clone, Copy)]
pub struct AuditFilter {
    /// Only this user's entries.
    pub user_id: Option<Uuid>,
    /// At or after.
    pub start: Option<DateTime<Utc>>,
    /// Before.
    pub end: DateTime<Utc>,
    /// Strictly after this (created_at, id) in newest-first order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// Up to `limit` entries, newest first (ties by id, descending).
pub async fn list(conn: &mut AsyncPgConnection, filter: AuditFilter, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_logs::table.select(AuditRow::as_select()).into_boxed();
    if let Some(user_id) = filter.user_id {
        query = query.filter(audit_logs::user_id.eq(user_id));
    }
    if let Some(start) = filter.start {
        query = query.filter(audit_logs::created_at.ge(start));
    }
    query = query.filter(audit_logs::created_at.lt(filter.end));
    if let Some((at, id)) = filter.after {
        query =
            query.filter(audit_logs::created_at.lt(at).or(audit_logs::created_at.eq(at).and(audit_logs::id.lt(id))));
    }
    query.order((audit_logs::created_at.desc(), audit_logs::id.desc())).limit(limit).load(conn).await
}
