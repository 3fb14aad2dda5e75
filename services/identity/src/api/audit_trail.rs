//! GetUserAuditTrail: one user's audit entries from all four services,
//! newest first. Identity's own log is read in-process; billing's,
//! content's and progress's over gRPC (`ListAuditLogs`), all at once, each
//! call bounded by what is left of the caller's deadline; the merge and its
//! page position are the platform's (`jazz_platform::audit_trail`). A
//! service that does not answer fails the whole call with UNAVAILABLE: the
//! contract allows no trail with a silent gap. CheckErasure (the erasure
//! check across the four databases) asks the same peers' FindResidue.

use chrono::Utc;
use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::identity::v1::{
    CheckErasureRequest, CheckErasureResponse, GetUserAuditTrailRequest, GetUserAuditTrailResponse,
    ListAuditLogsRequest, ListAuditLogsResponse,
};
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::progress_internal_service_client::ProgressInternalServiceClient;
use jazz_platform::audit::AuditEntry;
use jazz_platform::audit_list::{AuditListPage, AuditListRequest};
use jazz_platform::audit_trail::{AuditSource, TrailPosition, TrailQuery, merged_page};
use jazz_platform::deadline::Deadline;
use jazz_platform::error::Violations;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::peer::Peer;
use jazz_platform::{Principal, ServiceContext};
use tonic::Status;

use super::{audit_list as own_audit, convert, page};
use crate::error::IdentityError;

/// Reads audit trails: identity's context and each peer.
pub struct AuditTrail {
    context: ServiceContext,
    billing: Peer,
    content: Peer,
    progress: Peer,
}

/// Identity's own audit log, read in-process.
struct OwnLog<'a> {
    context: &'a ServiceContext,
}

#[tonic::async_trait]
impl<'a> AuditSource<IdentityError> for OwnLog<'a> {
    fn service(&self) -> &'static str {
        "identity"
    }

    async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, IdentityError> {
        let AuditListRequest { user_id, start_time, end_time, page_size, page_token } = request;
        let request = ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
        let ListAuditLogsResponse { entries, next_page_token } = own_audit::list(self.context, request).await?;
        Ok(AuditListPage { entries, next_page_token })
    }
}

/// The peers whose audit logs the trail reads.
#[derive(Debug, Clone, Copy)]
enum Log {
    Billing,
    Content,
    Progress,
}

/// A peer's audit log, read with its `ListAuditLogs` under identity's
/// service principal.
struct PeerLog<'a> {
    log: Log,
    peer: &'a Peer,
    deadline: Deadline,
}

#[tonic::async_trait]
impl<'a> AuditSource<IdentityError> for PeerLog<'a> {
    fn service(&self) -> &'static str {
        self.peer.name()
    }

    async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, IdentityError> {
        let service = self.service();
        let unavailable = |reason: String| IdentityError::PeerUnavailable { service, reason };
        let channel = self.peer.channel().ok_or_else(|| unavailable("no usable URL".into()))?;
        let deadline = &self.deadline;
        let AuditListRequest { user_id, start_time, end_time, page_size, page_token } = request;
        let answer = match self.log {
            Log::Billing => {
                let message = billing_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = BillingInternalServiceClient::new(channel)
                    .list_audit_logs(self.peer.request_within(message, deadline))
                    .await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
            Log::Content => {
                let message = content_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = ContentInternalServiceClient::new(channel)
                    .list_audit_logs(self.peer.request_within(message, deadline))
                    .await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
            Log::Progress => {
                let message =
                    progress_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = ProgressInternalServiceClient::new(channel)
                    .list_audit_logs(self.peer.request_within(message, deadline))
                    .await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
        };
        answer.map_err(|status| unavailable(format!("{:?}: {}", status.code(), status.message())))
    }
}

impl AuditTrail {
    /// Readers over the service's context, with peers from its
    /// configuration (connected on first use).
    pub fn new(context: ServiceContext) -> Self {
        let peers = &context.config.peers;
        let key = &context.principal_key;
        let peer = |name, url: &str| Peer::new(name, url, "identity", key.clone());
        let (billing, content, progress) =
            (peer("billing", &peers.billing), peer("content", &peers.content), peer("progress", &peers.progress));
        Self { context, billing, content, progress }
    }

    /// One page of `req`'s trail, newest first, audited as AUDIT_TRAIL_READ
    /// by `principal`; every read finishes within `deadline`.
    pub async fn read(
        &self,
        principal: &Principal,
        deadline: Deadline,
        req: GetUserAuditTrailRequest,
    ) -> Result<GetUserAuditTrailResponse, IdentityError> {
        let GetUserAuditTrailRequest { user_id, start_time, end_time, page_size, page_token } = req;
        let mut v = Violations::new();
        let user = v.check(parse_id("user_id", &user_id));
        let start = v.check(jazz_platform::fields::time("start_time", start_time.as_ref())).flatten();
        let end = v.check(jazz_platform::fields::time("end_time", end_time.as_ref())).flatten();
        v.finish().map_err(IdentityError::Invalid)?;
        let user = user.ok_or_else(|| IdentityError::Invalid(Vec::new()))?;
        let size = usize::try_from(jazz_platform::fields::page_size(page_size)?).unwrap_or(0);
        // Bound to the filter as given; the position is the last entry shown.
        let filter = format!(
            "{};{};{}",
            to_api(user),
            start.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
            end.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
        );
        let after = match page::decode(&self.context, &page_token, "trail", &filter, 3)? {
            None => None,
            Some(parts) => Some(TrailPosition::from_parts(&parts).ok_or_else(page::invalid_token)?),
        };
        // "Unset: now", fixed once so that every service cuts at the same instant.
        let query = TrailQuery {
            user_id: to_api(user),
            start_time: start.map(convert::timestamp),
            end_time: convert::timestamp(end.unwrap_or_else(Utc::now)),
        };
        let own = OwnLog { context: &self.context };
        let (billing, content, progress) = (
            PeerLog { log: Log::Billing, peer: &self.billing, deadline },
            PeerLog { log: Log::Content, peer: &self.content, deadline },
            PeerLog { log: Log::Progress, peer: &self.progress, deadline },
        );
        let sources: [&dyn AuditSource<IdentityError>; 4] = [&own, &billing, &content, &progress];
        let work = merged_page(&sources, &query, size, after.as_ref());
        let (entries, next) =
            tokio::time::timeout(deadline.for_work(), work).await.map_err(|_| IdentityError::TrailTimedOut)??;
        let next_page_token = next
            .map(|position| {
                let [micros, id, service] = position.to_parts();
                page::encode(&self.context, "trail", &filter, &[&micros, &id, &service])
            })
            .unwrap_or_default();
        let mut conn = self.context.pool.get().await?;
        AuditEntry::new(principal, "AUDIT_TRAIL_READ", "users", Some(to_api(user)))
            .with_change(
                None,
                Some(serde_json::json!({ "entries": entries.len(), "next_page": !next_page_token.is_empty() })),
            )
            .write(&mut conn)
            .await?;
        Ok(GetUserAuditTrailResponse { entries, next_page_token })
    }
}

impl AuditTrail {
    /// CheckErasure: identity's own database scanned in-process, billing's,
    /// content's and progress's through their FindResidue, all at once and
    /// within `deadline`; any silent service fails the call (UNAVAILABLE).
    /// Audited as ERASURE_CHECK without the user's id (the entry would
    /// otherwise be residue itself).
    pub async fn check_erasure(
        &self,
        principal: &Principal,
        deadline: Deadline,
        req: CheckErasureRequest,
    ) -> Result<CheckErasureResponse, Status> {
        let CheckErasureRequest { user_id, email } = req;
        parse_id("user_id", &user_id).map_err(|v| jazz_platform::error::invalid_argument(&[v]))?;
        let unavailable = |service: &str, status: Status| {
            tracing::warn!(service, code = ?status.code(), message = status.message(), "erasure check incomplete");
            if status.code() == tonic::Code::InvalidArgument {
                status
            } else {
                Status::unavailable(format!("{service} did not answer the erasure check; retry the call"))
            }
        };
        let channel = |peer: &Peer| {
            peer.channel().ok_or_else(|| Status::unavailable(format!("{} has no usable URL", peer.name())))
        };
        let own = jazz_platform::residue::serve(&self.context.pool, "identity", &user_id, &email, crate::RESIDUE_KEPT);
        let billing = async {
            let message = billing_pb::FindResidueRequest { user_id: user_id.clone(), email: email.clone() };
            BillingInternalServiceClient::new(channel(&self.billing)?)
                .find_residue(self.billing.request_within(message, &deadline))
                .await
                .map(|r| r.into_inner().columns)
                .map_err(|s| unavailable("billing", s))
        };
        let content = async {
            let message = content_pb::FindResidueRequest { user_id: user_id.clone(), email: email.clone() };
            ContentInternalServiceClient::new(channel(&self.content)?)
                .find_residue(self.content.request_within(message, &deadline))
                .await
                .map(|r| r.into_inner().columns)
                .map_err(|s| unavailable("content", s))
        };
        let progress = async {
            let message = progress_pb::FindResidueRequest { user_id: user_id.clone(), email: email.clone() };
            ProgressInternalServiceClient::new(channel(&self.progress)?)
                .find_residue(self.progress.request_within(message, &deadline))
                .await
                .map(|r| r.into_inner().columns)
                .map_err(|s| unavailable("progress", s))
        };
        let work = async { tokio::try_join!(own, billing, content, progress) };
        let (own, billing, content, progress) = tokio::time::timeout(deadline.for_work(), work)
            .await
            .map_err(|_| Status::unavailable("the erasure check did not finish in time; retry the call"))??;
        let columns: Vec<_> = own.into_iter().chain(billing).chain(content).chain(progress).collect();
        let mut conn = self.context.pool.get().await.map_err(IdentityError::from)?;
        AuditEntry::new(principal, "ERASURE_CHECK", "users", None)
            .with_change(None, Some(serde_json::json!({ "columns_found": columns.len() })))
            .write(&mut conn)
            .await
            .map_err(IdentityError::from)?;
        Ok(CheckErasureResponse { columns })
    }
}
