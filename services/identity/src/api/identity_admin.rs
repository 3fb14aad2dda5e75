//! `jazz.identity.v1.IdentityAdminService` (internal, service principals
//! only): feature-flag management (in `admin_flags.rs`), LookupUser,
//! GetUserAuditTrail and CheckErasure (in `audit_trail.rs`). Every call is
//! audited.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::identity_admin_service_server::IdentityAdminService;
use jazz_contract::jazz::identity::v1::lookup_user_request::Key;
use jazz_contract::jazz::identity::v1::*;
use jazz_platform::audit::AuditEntry;
use jazz_platform::deadline::Deadline;
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::principal::principal_of;
use jazz_platform::{Principal, ServiceContext};
use tonic::{Request, Response, Status};

use super::audit_trail::AuditTrail;
use super::{admin_flags, convert};
use crate::domain::email::Email;
use crate::error::IdentityError;
use crate::store::{accounts, sessions, users};

/// Most linked accounts LookupUser shows (a user has a handful at most).
const MAX_LOOKUP_ACCOUNTS: i64 = 200;
/// Handlers of `IdentityAdminService`.
pub struct IdentityAdminApi {
    context: ServiceContext,
    trail: AuditTrail,
}

impl IdentityAdminApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { trail: AuditTrail::new(context.clone()), context }
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
        // The server's DeadlineLayer made the caller's deadline current.
        let deadline = Deadline::current_or(self.context.config.limits.request_timeout);
        reply(self.trail.read(&principal, deadline, request.into_inner()).await)
    }

    async fn check_erasure(
        &self,
        request: Request<CheckErasureRequest>,
    ) -> Result<Response<CheckErasureResponse>, Status> {
        let principal = service(&request)?;
        let deadline = Deadline::current_or(self.context.config.limits.request_timeout);
        Ok(Response::new(self.trail.check_erasure(&principal, deadline, request.into_inner()).await?))
    }
}
