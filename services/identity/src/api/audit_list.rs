//! ListAuditLogs: identity's audit log through the platform's one
//! implementation (`jazz_platform::audit_list`), with identity's signed page
//! tokens (`page.rs`: bound to the list and the filter).

use jazz_contract::jazz::identity::v1::{ListAuditLogsRequest, ListAuditLogsResponse};
use jazz_platform::ServiceContext;
use jazz_platform::audit_list::{self, AuditListError, AuditListRequest};

use super::page;
use crate::error::IdentityError;

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
    let page = audit_list::list_page(&context.pool, "identity", &page::signer(context), request).await?;
    Ok(ListAuditLogsResponse { entries: page.entries, next_page_token: page.next_page_token })
}
