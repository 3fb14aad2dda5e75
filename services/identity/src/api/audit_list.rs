//! ListAuditLogs: identity's audit log, newest first, keyset pages whose
//! tokens are bound to the filter (billing's approach, with identity's
//! signed tokens from `page.rs`).

use chrono::{DateTime, Utc};
use jazz_contract::jazz::common::v1::AuditLogEntry;
use jazz_contract::jazz::identity::v1::{ListAuditLogsRequest, ListAuditLogsResponse};
use jazz_platform::ServiceContext;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{parse_optional_id, to_api};

use super::convert::timestamp;
use super::page;
use crate::domain::json::json_to_struct;
use crate::error::IdentityError;
use jazz_platform::audit::{AuditFilter, AuditRow, list as list_rows};

/// Longest user agent returned (`audit.proto`).
const MAX_USER_AGENT_CHARS: usize = 512;

fn time(field: &str, value: Option<prost_types::Timestamp>) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    value
        .map(|at| {
            u32::try_from(at.nanos)
                .ok()
                .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
                .ok_or_else(|| FieldViolation::new(field, "is out of range"))
        })
        .transpose()
}

/// `IdentityInternalService.ListAuditLogs`.
pub async fn list(
    context: &ServiceContext,
    request: ListAuditLogsRequest,
) -> Result<ListAuditLogsResponse, IdentityError> {
    let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request;
    let mut violations = Violations::new();
    let user = violations.check(parse_optional_id("user_id", &user_id)).flatten();
    let start = violations.check(time("start_time", start_time)).flatten();
    let end = violations.check(time("end_time", end_time)).flatten();
    violations.finish().map_err(IdentityError::Invalid)?;
    let size = page::page_size(page_size)?;
    let filter_key = format!(
        "{};{};{}",
        user.map(to_api).unwrap_or_default(),
        start.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
        end.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
    );
    let after = match page::decode(context, &page_token, "audit", &filter_key)? {
        None => None,
        Some(parts) => Some(page::time_and_id(&parts)?),
    };
    let filter = AuditFilter { user_id: user, start, end: end.unwrap_or_else(Utc::now), after };
    let mut conn = context.pool.get().await?;
    let mut rows = list_rows(&mut conn, filter, size + 1).await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > size;
    rows.truncate(usize::try_from(size).unwrap_or(0));
    let next_page_token = match rows.last() {
        Some(last) if more => page::encode(
            context,
            "audit",
            &filter_key,
            &[&last.created_at.timestamp_micros().to_string(), &to_api(last.id)],
        ),
        _ => String::new(),
    };
    Ok(ListAuditLogsResponse { entries: rows.into_iter().map(entry).collect(), next_page_token })
}

fn object(value: Option<&serde_json::Value>) -> Option<prost_types::Struct> {
    value.filter(|v| v.is_object()).map(json_to_struct)
}

fn entry(row: AuditRow) -> AuditLogEntry {
    AuditLogEntry {
        id: to_api(row.id),
        service: "identity".into(),
        user_id: row.user_id.map(to_api).unwrap_or_default(),
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id.unwrap_or_default(),
        old_data: object(row.old_data.as_ref()),
        new_data: object(row.new_data.as_ref()),
        metadata: object(row.metadata.as_ref()),
        ip_address: row.ip_address.unwrap_or_default(),
        user_agent: row.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()).unwrap_or_default(),
        created_at: Some(timestamp(row.created_at)),
    }
}
