//! The audit trail: one row per change, written by the handler inside the
//! same transaction as the change itself, so an entry can be neither lost
//! (the change committed, the entry not) nor invented (the reverse); and
//! the one query every service's `ListAuditLogs` reads it with.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::principal::Principal;
use crate::schema::audit_logs;

/// Longest user agent kept; longer ones are cut (at a char boundary).
const MAX_USER_AGENT: usize = 2048;

/// One audit entry to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_logs)]
pub struct AuditEntry {
    /// ULID of the entry.
    pub id: Uuid,
    /// The acting user, if any.
    pub user_id: Option<Uuid>,
    /// CREATE, UPDATE, DELETE, LOGIN, LOGOUT, PASSWORD_CHANGE, …
    pub action: String,
    /// The table or resource changed.
    pub entity: String,
    /// The changed row's API id.
    pub entity_id: Option<String>,
    /// State before (never secrets: no hashes, no tokens).
    pub old_data: Option<serde_json::Value>,
    /// State after (same rule).
    pub new_data: Option<serde_json::Value>,
    /// Context: request id, calling service.
    pub metadata: Option<serde_json::Value>,
    /// The end client's address.
    pub ip_address: Option<String>,
    /// The end client's user agent.
    pub user_agent: Option<String>,
}

impl AuditEntry {
    /// An entry for `action` on `entity`, attributed to the caller in
    /// `principal` (user, address, user agent and request id).
    pub fn new(principal: &Principal, action: &str, entity: &str, entity_id: Option<String>) -> Self {
        let mut metadata = serde_json::Map::new();
        if !principal.request_id.is_empty() {
            metadata.insert("request_id".into(), principal.request_id.clone().into());
        }
        if let Some(service) = &principal.service {
            metadata.insert("service".into(), service.clone().into());
        }
        Self {
            id: crate::ids::new_id(),
            user_id: principal.user_id,
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id,
            old_data: None,
            new_data: None,
            metadata: Some(serde_json::Value::Object(metadata)),
            ip_address: principal.client_ip.clone(),
            user_agent: principal.user_agent.as_deref().map(truncate_user_agent),
        }
    }

    /// Sets the acting user (for calls that create or find the user).
    pub fn by_user(mut self, user_id: Uuid) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// Records the state before and after.
    pub fn with_change(mut self, old: Option<serde_json::Value>, new: Option<serde_json::Value>) -> Self {
        self.old_data = old;
        self.new_data = new;
        self
    }

    /// Writes the entry on `conn`, which should be inside the change's
    /// transaction.
    pub async fn write(self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::insert_into(audit_logs::table).values(&self).execute(conn).await.map(drop)
    }
}

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

/// Up to `limit` entries, newest first (ties by id, descending): the
/// `ListAuditLogs` of every service.
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

fn truncate_user_agent(agent: &str) -> String {
    if agent.len() <= MAX_USER_AGENT {
        return agent.to_owned();
    }
    let mut end = MAX_USER_AGENT;
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    agent[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_user_agents_are_cut_at_a_char_boundary() {
        let agent = "é".repeat(MAX_USER_AGENT);
        let cut = truncate_user_agent(&agent);
        assert!(cut.len() <= MAX_USER_AGENT);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
