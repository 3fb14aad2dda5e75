//! ListAuditLogs: billing's audit log through the platform's one
//! implementation (`jazz_platform::audit_list`), with billing's signed
//! page tokens (`page.rs`).

use jazz_contract::jazz::billing::v1::{ListAuditLogsRequest, ListAuditLogsResponse};
use jazz_platform::DbPool;
use jazz_platform::audit_list::{self, AuditListError, AuditListRequest};
use jazz_platform::page_token::PageSigner;

use crate::error::BillingError;

impl From<AuditListError> for BillingError {
    fn from(error: AuditListError) -> Self {
        match error {
            AuditListError::Invalid(violations) => Self::Invalid(violations),
            AuditListError::InvalidPageToken => Self::InvalidPageToken,
            AuditListError::Store(store) => Self::Store(store),
        }
    }
}

/// `BillingInternalService.ListAuditLogs`.
pub async fn list(
    pool: &DbPool,
    pages: &PageSigner,
    request: ListAuditLogsRequest,
) -> Result<ListAuditLogsResponse, BillingError> {
    let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request;
    let request = AuditListRequest { user_id, start_time, end_time, page_size, page_token };
    let page = audit_list::list_page(pool, "billing", pages, request).await?;
    Ok(ListAuditLogsResponse { entries: page.entries, next_page_token: page.next_page_token })
}
