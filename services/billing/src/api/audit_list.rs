//! ListAuditLogs: billing's audit log, newest first, keyset pages whose
//! tokens are bound to the filter.

use chrono::{DateTime, Utc};
use jazz_contract::jazz::billing::v1::{ListAuditLogsRequest, ListAuditLogsResponse};
use jazz_contract::jazz::common::v1::AuditLogEntry;
use jazz_platform::DbPool;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{parse_id, parse_optional_id, to_api};

use super::{convert, page};
use crate::error::BillingError;
use jazz_platform::audit::{AuditFilter, AuditRow, list as list_rows};

/// Longest user agent returned (`audit.proto`).
const MAX_USER_AGENT_CHARS: usize = 512;

fn time(field: &str, value: Option<prost_types::Timestamp>) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    value
        .map(|at| convert::from_timestamp(&at).ok_or_else(|| FieldViolation::new(field, "is out of range")))
        .transpose()
}

/// `BillingInternalService.ListAuditLogs`.
pub async fn list(pool: &DbPool, request: ListAuditLogsRequest) -> Result<ListAuditLogsResponse, BillingError> {
    let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request;
    let filter_key = format!("{user_id};{start_time:?};{end_time:?}");
    let mut violations = Violations::new();
    let user = violations.check(parse_optional_id("user_id", &user_id)).flatten();
    let start = violations.check(time("start_time", start_time)).flatten();
    let end = violations.check(time("end_time", end_time)).flatten();
    violations.finish().map_err(BillingError::Invalid)?;
    let size = page::page_size(page_size)?;
    let after = match page::decode(&page_token, "audit", &filter_key)? {
        None => None,
        Some(parts) => match parts.as_slice() {
            [micros, id] => {
                let micros: i64 = micros.parse().map_err(|_| BillingError::InvalidPageToken)?;
                let at = DateTime::from_timestamp_micros(micros).ok_or(BillingError::InvalidPageToken)?;
                Some((at, parse_id("page_token", id).map_err(|_| BillingError::InvalidPageToken)?))
            }
            _ => return Err(BillingError::InvalidPageToken),
        },
    };
    let filter = AuditFilter { user_id: user, start, end: end.unwrap_or_else(Utc::now), after };
    let mut conn = pool.get().await?;
    let mut rows = list_rows(&mut conn, filter, size + 1).await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > size;
    rows.truncate(usize::try_from(size).unwrap_or(0));
    let next_page_token = match rows.last() {
        Some(last) if more => {
            page::encode(&["audit", &filter_key, &last.created_at.timestamp_micros().to_string(), &to_api(last.id)])
        }
        _ => String::new(),
    };
    Ok(ListAuditLogsResponse { entries: rows.into_iter().map(entry).collect(), next_page_token })
}

fn entry(row: AuditRow) -> AuditLogEntry {
    AuditLogEntry {
        id: to_api(row.id),
        service: "billing".into(),
        user_id: row.user_id.map(to_api).unwrap_or_default(),
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id.unwrap_or_default(),
        old_data: row.old_data.as_ref().and_then(json_object),
        new_data: row.new_data.as_ref().and_then(json_object),
        metadata: row.metadata.as_ref().and_then(json_object),
        ip_address: row.ip_address.unwrap_or_default(),
        user_agent: row.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()).unwrap_or_default(),
        created_at: Some(convert::timestamp(row.created_at)),
    }
}

/// A JSON object as a protobuf `Struct` (other JSON has no Struct form).
fn json_object(value: &serde_json::Value) -> Option<prost_types::Struct> {
    match json_value(value).kind {
        Some(prost_types::value::Kind::StructValue(object)) => Some(object),
        _ => None,
    }
}

fn json_value(value: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(json_value).collect() })
        }
        serde_json::Value::Object(map) => Kind::StructValue(prost_types::Struct {
            fields: map.iter().map(|(k, v)| (k.clone(), json_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}
