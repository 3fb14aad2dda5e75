//! `jazz.identity.v1.IdentityAdminService` (internal, service principals
//! only): feature-flag management (in `admin_flags.rs`), LookupUser and
//! GetUserAuditTrail. Every call is audited.
//!
//! GetUserAuditTrail reads identity's own audit log in-process and billing's,
//! content's and progress's over gRPC, all at once, each call bounded by
//! what is left of the caller's deadline; the merge and its page position
//! are the platform's (`jazz_platform::audit_trail`). A service that does
//! not answer fails the whole call with UNAVAILABLE: the contract allows no
//! trail with a silent gap.

use std::time::Duration;

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::billing::v1 as billing_pb;
use jazz_contract::jazz::billing::v1::billing_internal_service_client::BillingInternalServiceClient;
use jazz_contract::jazz::content::v1 as content_pb;
use jazz_contract::jazz::content::v1::content_internal_service_client::ContentInternalServiceClient;
use jazz_contract::jazz::identity::v1::identity_admin_service_server::IdentityAdminService;
use jazz_contract::jazz::identity::v1::lookup_user_request::Key;
use jazz_contract::jazz::identity::v1::*;
use jazz_contract::jazz::progress::v1 as progress_pb;
use jazz_contract::jazz::progress::v1::progress_internal_service_client::ProgressInternalServiceClient;
use jazz_platform::audit::AuditEntry;
use jazz_platform::audit_list::{self, AuditListPage, AuditListRequest};
use jazz_platform::audit_trail::{AuditSource, TrailPosition, TrailQuery, merged_page};
use jazz_platform::deadline::Deadline;
use jazz_platform::error::Violations;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::principal::principal_of;
use jazz_platform::{Principal, PrincipalKey, ServiceContext};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

use super::{admin_flags, audit_list as own_audit, convert, page};
use crate::domain::email::Email;
use crate::error::IdentityError;
use crate::store::{accounts, sessions, users};

/// Most linked accounts LookupUser shows (a user has a handful at most).
const MAX_LOOKUP_ACCOUNTS: i64 = 200;
/// Longest wait for a TCP connection to a peer (the call's deadline may be
/// shorter and then wins).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Handlers of `IdentityAdminService`.
pub struct IdentityAdminApi {
    context: ServiceContext,
    billing: Option<Channel>,
    content: Option<Channel>,
    progress: Option<Channel>,
}

/// A lazily connected channel to a peer; `None` (logged) for an unusable
/// URL, which then answers UNAVAILABLE.
fn lazy(url: &str) -> Option<Channel> {
    let channel = Endpoint::from_shared(url.to_owned()).ok().map(|e| e.connect_timeout(CONNECT_TIMEOUT).connect_lazy());
    if channel.is_none() {
        tracing::warn!(url, "peer URL unusable; audit trails will answer UNAVAILABLE");
    }
    channel
}

impl IdentityAdminApi {
    /// Handlers over the service's shared context (peers from its
    /// configuration, connected on first use).
    pub fn new(context: ServiceContext) -> Self {
        let peers = &context.config.peers;
        let (billing, content, progress) = (lazy(&peers.billing), lazy(&peers.content), lazy(&peers.progress));
        Self { context, billing, content, progress }
    }

    async fn lookup(&self, principal: &Principal, req: LookupUserRequest) -> Result<LookupUserResponse, IdentityError> {
        let LookupUserRequest { key } = req;
        enum By {
            Id(uuid::Uuid),
            Email(Email),
        }
        let by = match key {
            Some(Key::UserId(id)) => By::Id(parse_id("user_id", &id).map_err(|v| IdentityError::Invalid(vec![v]))?),
            Some(Key::Email(email)) => {
                By::Email(Email::parse("email", &email).map_err(|v| IdentityError::Invalid(vec![v]))?)
            }
            None => return Err(IdentityError::field("key", "give user_id or email")),
        };
        let mut conn = self.context.pool.get().await?;
        conn.transaction(async |conn| {
            let user = match &by {
                By::Id(id) => users::by_id(conn, *id).await?,
                By::Email(email) => users::by_email(conn, email.as_str()).await?,
            }
            .ok_or(IdentityError::NotFound("user"))?;
            let profile = users::profile(conn, user.id).await?;
            let linked = accounts::list(conn, user.id, None, MAX_LOOKUP_ACCOUNTS).await?;
            let active = sessions::count_live(conn, user.id).await?;
            AuditEntry::new(principal, "LOOKUP", "users", Some(to_api(user.id))).write(conn).await?;
            Ok(LookupUserResponse {
                user: Some(convert::user(&user)),
                profile: Some(convert::profile(&profile)),
                accounts: linked.iter().map(convert::account).collect(),
                active_session_count: i32::try_from(active).unwrap_or(i32::MAX),
            })
        })
        .await
    }
}

/// Why a trail could not be read.
#[derive(Debug, thiserror::Error)]
enum TrailError {
    /// Identity's own failure (bad input, database).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A peer did not answer, or not with a page.
    #[error("{service} audit log unavailable: {reason}")]
    Unavailable {
        /// Which service.
        service: &'static str,
        /// What happened (logged, not returned).
        reason: String,
    },
    /// The caller's deadline left no time to finish.
    #[error("audit trail deadline passed")]
    TimedOut,
}

impl From<TrailError> for Status {
    fn from(error: TrailError) -> Self {
        match error {
            TrailError::Identity(identity) => Status::from(identity),
            TrailError::Unavailable { service, ref reason } => {
                tracing::warn!(service, %reason, "audit trail incomplete");
                Status::unavailable(format!("the {service} audit log did not answer; retry the call"))
            }
            TrailError::TimedOut => {
                Status::unavailable("the audit logs did not all answer within the deadline; retry the call")
            }
        }
    }
}

/// Identity's own audit log, read in-process.
struct OwnLog<'a> {
    context: &'a ServiceContext,
}

#[tonic::async_trait]
impl<'a> AuditSource<TrailError> for OwnLog<'a> {
    fn service(&self) -> &'static str {
        "identity"
    }

    async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, TrailError> {
        let AuditListRequest { user_id, start_time, end_time, page_size, page_token } = request;
        let request = ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
        let ListAuditLogsResponse { entries, next_page_token } = own_audit::list(self.context, request).await?;
        Ok(AuditListPage { entries, next_page_token })
    }
}

/// The peers whose audit logs the trail reads.
#[derive(Debug, Clone, Copy)]
enum Peer {
    Billing,
    Content,
    Progress,
}

/// A peer's audit log, read with its `ListAuditLogs` under identity's
/// service principal.
struct PeerLog<'a> {
    peer: Peer,
    channel: Option<Channel>,
    key: &'a PrincipalKey,
    deadline: Deadline,
}

impl PeerLog<'_> {
    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        self.deadline.apply(&mut request);
        self.key.attach(&mut request, &Principal::service("identity"));
        request
    }
}

#[tonic::async_trait]
impl<'a> AuditSource<TrailError> for PeerLog<'a> {
    fn service(&self) -> &'static str {
        match self.peer {
            Peer::Billing => "billing",
            Peer::Content => "content",
            Peer::Progress => "progress",
        }
    }

    async fn page(&self, request: AuditListRequest) -> Result<AuditListPage, TrailError> {
        let service = self.service();
        let unavailable = |reason: String| TrailError::Unavailable { service, reason };
        let channel = self.channel.clone().ok_or_else(|| unavailable("no usable URL".into()))?;
        let AuditListRequest { user_id, start_time, end_time, page_size, page_token } = request;
        let answer = match self.peer {
            Peer::Billing => {
                let message = billing_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = BillingInternalServiceClient::new(channel).list_audit_logs(self.request(message)).await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
            Peer::Content => {
                let message = content_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = ContentInternalServiceClient::new(channel).list_audit_logs(self.request(message)).await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
            Peer::Progress => {
                let message =
                    progress_pb::ListAuditLogsRequest { user_id, start_time, end_time, page_size, page_token };
                let call = ProgressInternalServiceClient::new(channel).list_audit_logs(self.request(message)).await;
                call.map(|r| r.into_inner())
                    .map(|r| AuditListPage { entries: r.entries, next_page_token: r.next_page_token })
            }
        };
        answer.map_err(|status| unavailable(format!("{:?}: {}", status.code(), status.message())))
    }
}

impl IdentityAdminApi {
    async fn trail(
        &self,
        principal: &Principal,
        deadline: Deadline,
        req: GetUserAuditTrailRequest,
    ) -> Result<GetUserAuditTrailResponse, TrailError> {
        let GetUserAuditTrailRequest { user_id, start_time, end_time, page_size, page_token } = req;
        let mut v = Violations::new();
        let user = v.check(parse_id("user_id", &user_id));
        let start = v.check(audit_list::time("start_time", start_time)).flatten();
        let end = v.check(audit_list::time("end_time", end_time)).flatten();
        v.finish().map_err(IdentityError::Invalid)?;
        let user = user.ok_or_else(|| IdentityError::Invalid(Vec::new()))?;
        let size = usize::try_from(page::page_size(page_size)?).unwrap_or(0);
        // Bound to the filter as given; the position is the last entry shown.
        let filter = format!(
            "{};{};{}",
            to_api(user),
            start.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
            end.map(|at| at.timestamp_micros().to_string()).unwrap_or_default(),
        );
        let after = match page::decode(&self.context, &page_token, "trail", &filter)? {
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
        let key = &self.context.principal_key;
        let peer = |peer: Peer, channel: &Option<Channel>| PeerLog { peer, channel: channel.clone(), key, deadline };
        let (billing, content, progress) = (
            peer(Peer::Billing, &self.billing),
            peer(Peer::Content, &self.content),
            peer(Peer::Progress, &self.progress),
        );
        let sources: [&dyn AuditSource<TrailError>; 4] = [&own, &billing, &content, &progress];
        let work = merged_page(&sources, &query, size, after.as_ref());
        let (entries, next) =
            tokio::time::timeout(deadline.for_work(), work).await.map_err(|_| TrailError::TimedOut)??;
        let next_page_token = next
            .map(|position| {
                let [micros, id, service] = position.to_parts();
                page::encode(&self.context, "trail", &filter, &[&micros, &id, &service])
            })
            .unwrap_or_default();
        let mut conn = self.context.pool.get().await.map_err(IdentityError::from)?;
        AuditEntry::new(principal, "AUDIT_TRAIL_READ", "users", Some(to_api(user)))
            .with_change(
                None,
                Some(serde_json::json!({ "entries": entries.len(), "next_page": !next_page_token.is_empty() })),
            )
            .write(&mut conn)
            .await
            .map_err(IdentityError::from)?;
        Ok(GetUserAuditTrailResponse { entries, next_page_token })
    }
}

/// The calling service's principal, or PERMISSION_DENIED for anyone else.
fn service<T>(request: &Request<T>) -> Result<Principal, Status> {
    let principal = principal_of(request)?;
    principal.require_service()?;
    Ok(principal.clone())
}

fn reply<T>(result: Result<T, IdentityError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl IdentityAdminService for IdentityAdminApi {
    async fn create_feature_flag(
        &self,
        request: Request<CreateFeatureFlagRequest>,
    ) -> Result<Response<CreateFeatureFlagResponse>, Status> {
        let principal = service(&request)?;
        reply(admin_flags::create(&self.context, &principal, request.into_inner()).await)
    }

    async fn update_feature_flag(
        &self,
        request: Request<UpdateFeatureFlagRequest>,
    ) -> Result<Response<UpdateFeatureFlagResponse>, Status> {
        let principal = service(&request)?;
        reply(admin_flags::update(&self.context, &principal, request.into_inner()).await)
    }

    async fn get_feature_flag(
        &self,
        request: Request<GetFeatureFlagRequest>,
    ) -> Result<Response<GetFeatureFlagResponse>, Status> {
        let principal = service(&request)?;
        reply(admin_flags::get(&self.context, &principal, request.into_inner()).await)
    }

    async fn list_feature_flags(
        &self,
        request: Request<ListFeatureFlagsRequest>,
    ) -> Result<Response<ListFeatureFlagsResponse>, Status> {
        let principal = service(&request)?;
        reply(admin_flags::list(&self.context, &principal, request.into_inner()).await)
    }

    async fn delete_feature_flag(
        &self,
        request: Request<DeleteFeatureFlagRequest>,
    ) -> Result<Response<DeleteFeatureFlagResponse>, Status> {
        let principal = service(&request)?;
        reply(admin_flags::delete(&self.context, &principal, request.into_inner()).await)
    }

    async fn lookup_user(&self, request: Request<LookupUserRequest>) -> Result<Response<LookupUserResponse>, Status> {
        let principal = service(&request)?;
        reply(self.lookup(&principal, request.into_inner()).await)
    }

    async fn get_user_audit_trail(
        &self,
        request: Request<GetUserAuditTrailRequest>,
    ) -> Result<Response<GetUserAuditTrailResponse>, Status> {
        let principal = service(&request)?;
        let deadline = Deadline::of(&request, self.context.config.limits.request_timeout);
        Ok(Response::new(self.trail(&principal, deadline, request.into_inner()).await?))
    }
}
