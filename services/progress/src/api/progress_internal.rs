//! `jazz.progress.v1.ProgressInternalService` (internal; service principals
//! only): the user purge (identity's relay), content purges (content's
//! relay) and progress's audit log (the platform's `ListAuditLogs`).
//!
//! Each event is applied in one transaction that also records its id in
//! the inbox (`outbox::mark_processed`) and writes the audit entry, so a
//! redelivery answers `duplicate` and changes nothing.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::progress::v1::progress_internal_service_server::ProgressInternalService;
use jazz_contract::jazz::progress::v1::*;
use jazz_platform::audit::AuditEntry;
use jazz_platform::audit_list::{self, AuditListRequest};
use jazz_platform::error::Violations;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::outbox::{self, events};
use jazz_platform::page_token::PageSigner;
use jazz_platform::principal::principal_of;
use jazz_platform::{Principal, ServiceContext};
use serde_json::json;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::replay;
use crate::error::ProgressError;
use crate::store::erasure;

/// Handlers of `ProgressInternalService`.
pub struct ProgressInternalApi {
    context: ServiceContext,
    /// Signs the audit log's page tokens.
    pages: PageSigner,
}

impl ProgressInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        let pages = PageSigner::new(&context.config.principal_secret, "progress");
        Self { context, pages }
    }
}

/// `entry` with the applied event's id in its metadata.
fn with_event(mut entry: AuditEntry, event_id: &str) -> AuditEntry {
    if let Some(serde_json::Value::Object(metadata)) = entry.metadata.as_mut() {
        metadata.insert("event_id".into(), event_id.into());
    }
    entry
}

/// The event id and the other id of an event request, both required.
fn ids(event_id: &str, field: &str, value: &str) -> Result<(Uuid, Uuid), ProgressError> {
    let mut v = Violations::new();
    let event = v.check(parse_id("event_id", event_id));
    let other = v.check(parse_id(field, value));
    v.finish().map_err(ProgressError::Invalid)?;
    event.zip(other).ok_or_else(|| ProgressError::Invalid(Vec::new()))
}

impl ProgressInternalApi {
    async fn purge(&self, principal: &Principal, req: PurgeUserRequest) -> Result<PurgeUserResponse, ProgressError> {
        let PurgeUserRequest { event_id, user_id, schema_version: _ } = req; // version: checked by the handler
        let (event, user) = ids(&event_id, "user_id", &user_id)?;
        let mut conn = self.context.pool.get().await?;
        conn.transaction(async |conn| {
            if !outbox::mark_processed(conn, event, events::USER_PURGED).await? {
                return Ok(PurgeUserResponse { duplicate: true });
            }
            let purged = erasure::purge_user(conn, user).await?;
            let forgotten = jazz_platform::erasure::forget_user(conn, user, &[replay::SCOPE_PREFIX], &[]).await?;
            // The entry names the event, never the user: afterwards no row
            // here holds the user's id.
            with_event(AuditEntry::new(principal, "USER_PURGE", "practice_sessions", None), &event_id)
                .with_change(
                    None,
                    Some(json!({
                        "sessions": purged.sessions,
                        "practice_records": purged.practice_records,
                        "progress_records": purged.progress_records,
                        "reviews": purged.reviews,
                        "replays": forgotten.replays,
                        "outbox_events": forgotten.outbox_events,
                        "audit_entries_anonymised": forgotten.audit_entries,
                    })),
                )
                .write(conn)
                .await?;
            Ok::<_, ProgressError>(PurgeUserResponse { duplicate: false })
        })
        .await
    }

    async fn content_deleted(
        &self,
        principal: &Principal,
        req: HandleContentDeletedRequest,
    ) -> Result<HandleContentDeletedResponse, ProgressError> {
        let HandleContentDeletedRequest { event_id, content_id, schema_version: _ } = req; // checked by the handler
        let (event, item) = ids(&event_id, "content_id", &content_id)?;
        let mut conn = self.context.pool.get().await?;
        conn.transaction(async |conn| {
            if !outbox::mark_processed(conn, event, events::CONTENT_DELETED).await? {
                return Ok(HandleContentDeletedResponse { duplicate: true, ..Default::default() });
            }
            let purged = erasure::purge_content(conn, item).await?;
            if !purged.is_empty() {
                let entry = AuditEntry::new(principal, "CONTENT_PURGE", "practice_records", Some(to_api(item)));
                with_event(entry, &event_id)
                    .with_change(
                        None,
                        Some(json!({
                            "practice_records_deleted": purged.practice_records,
                            "reviews_deleted": purged.reviews,
                            "progress_records_cleared": purged.progress_records,
                        })),
                    )
                    .write(conn)
                    .await?;
            }
            Ok::<_, ProgressError>(HandleContentDeletedResponse {
                duplicate: false,
                deleted_practice_records: i64::try_from(purged.practice_records).unwrap_or(i64::MAX),
                cleared_progress_records: i64::try_from(purged.progress_records).unwrap_or(i64::MAX),
            })
        })
        .await
    }
}

/// The calling service's principal, or PERMISSION_DENIED for anyone else.
fn service<T>(request: &Request<T>) -> Result<Principal, Status> {
    let principal = principal_of(request)?;
    principal.require_service()?;
    Ok(principal.clone())
}

#[tonic::async_trait]
impl ProgressInternalService for ProgressInternalApi {
    async fn purge_user(&self, request: Request<PurgeUserRequest>) -> Result<Response<PurgeUserResponse>, Status> {
        let principal = service(&request)?;
        jazz_platform::outbox::accept_version(events::USER_PURGED, request.get_ref().schema_version)?;
        Ok(Response::new(self.purge(&principal, request.into_inner()).await?))
    }

    async fn handle_content_deleted(
        &self,
        request: Request<HandleContentDeletedRequest>,
    ) -> Result<Response<HandleContentDeletedResponse>, Status> {
        let principal = service(&request)?;
        jazz_platform::outbox::accept_version(events::CONTENT_DELETED, request.get_ref().schema_version)?;
        Ok(Response::new(self.content_deleted(&principal, request.into_inner()).await?))
    }

    async fn list_audit_logs(
        &self,
        request: Request<ListAuditLogsRequest>,
    ) -> Result<Response<ListAuditLogsResponse>, Status> {
        service(&request)?;
        let ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token } = request.into_inner();
        let request = AuditListRequest { user_id, start_time, end_time, page_size, page_token };
        let page = audit_list::list_page(&self.context.pool, "progress", &self.pages, request)
            .await
            .map_err(ProgressError::from)?;
        Ok(Response::new(ListAuditLogsResponse { entries: page.entries, next_page_token: page.next_page_token }))
    }

    async fn find_residue(
        &self,
        request: Request<FindResidueRequest>,
    ) -> Result<Response<FindResidueResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let FindResidueRequest { user_id, email } = request.into_inner();
        let columns =
            jazz_platform::residue::serve(&self.context.pool, "progress", &user_id, &email, crate::RESIDUE_KEPT)
                .await?;
        Ok(Response::new(FindResidueResponse { columns }))
    }
}
