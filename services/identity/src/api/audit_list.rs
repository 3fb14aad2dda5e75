//! ListAuditLogs: identity's audit log through the platform's one
//! implementation (`jazz_platform::audit_list`), with identity's signed page
//! tokens (`page.rs`: bound to the list and the filter).

use chrono::{DateTime, Utc};
use jazz_contract::jazz::identity::v1::{ListAuditLogsRequest, ListAuditLogsResponse};
use jazz_platform::ServiceContext;
use jazz_platform::audit_list::{self, AuditListError, AuditListRequest, AuditPageTokens, position_of};
use jazz_platform::ids::to_api;
use jazz_platform::page_token::InvalidPageToken;
use uuid::Uuid;

use super::page;
use crate::error::IdentityError;

/// Identity's token format for the audit log's `(created_at, id)` position.
struct IdentityTokens<'a> {
    context: &'a ServiceContext,
}

impl AuditPageTokens for IdentityTokens<'_> {
    fn encode(&self, binding: &str, at: DateTime<Utc>, id: Uuid) -> String {
        page::encode(self.context, "audit", binding, &[&at.timestamp_micros().to_string(), &to_api(id)])
    }

    fn decode(&self, binding: &str, token: &str) -> Result<(DateTime<Utc>, Uuid), InvalidPageToken> {
        let parts = page::decode(self.context, token, "audit", binding).ok().flatten().ok_or(InvalidPageToken)?;
        position_of(&parts).ok_or(InvalidPageToken)
    }
}

impl From<AuditListError> for IdentityError {
    fn from(error: AuditListError) -> Self {
        match error {
            AuditListError::Invalid(violations) => Self::Invalid(violations),
            AuditListError::InvalidPageToken => page::invalid_token(),
            AuditListError::Store(store) => Self::Store(store),
        }
    }
}

/// `IdentityInternalService.ListAuditLogs`.
pub async fn list(
    context: &ServiceContext,
    request: ListAuditLogsRequest,
) -> Result<ListAuditLogsResponse, IdentityError> {
    let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request;
    let request = AuditListRequest { user_id, start_time, end_time, page_size, page_token };
    let page = audit_list::list_page(&context.pool, "identity", &IdentityTokens { context }, request).await?;
    Ok(ListAuditLogsResponse { entries: page.entries, next_page_token: page.next_page_token })
}
