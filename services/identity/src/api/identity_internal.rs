//! `jazz.identity.v1.IdentityInternalService` (internal: service principals
//! only). ValidateSession is on the gateway's path of every call: one
//! indexed lookup by token hash, and a write at most once a minute.
//! ListAuditLogs (in `audit_list.rs`) reads identity's audit log for the
//! admin trail. GetDailyFigures answers the metrics job;
//! HandleSubscriptionChanged keeps identity's copy of each user's tier (for
//! flag targeting) from billing's events.

use std::collections::{HashMap, HashSet};

use diesel_async::AsyncConnection;
use jazz_contract::jazz::common::v1::SubscriptionTier;
use jazz_contract::jazz::identity::v1::identity_internal_service_server::IdentityInternalService;
use jazz_contract::jazz::identity::v1::{
    BatchGetUsersRequest, BatchGetUsersResponse, GetDailyFiguresRequest, GetDailyFiguresResponse, GetUserRequest,
    GetUserResponse, HandleSubscriptionChangedRequest, HandleSubscriptionChangedResponse, ListAuditLogsRequest,
    ListAuditLogsResponse, ValidateSessionRequest, ValidateSessionResponse,
};
use jazz_platform::audit::AuditEntry;
use jazz_platform::daily::{UtcDay, count, figure};
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::{parse_id, to_api};
use jazz_platform::outbox::{events, mark_processed};
use jazz_platform::principal::principal_of;
use jazz_platform::{Principal, ServiceContext};
use serde_json::json;
use tonic::{Request, Response, Status};

use super::audit_list;
use super::convert::{self, timestamp};
use crate::domain::token::hash_presented;
use crate::error::IdentityError;
use crate::store::{sessions, tiers, users};

/// Most ids one BatchGetUsers call may ask for.
const MAX_BATCH: usize = 200;

/// Handlers of `IdentityInternalService`.
pub struct IdentityInternalApi {
    context: ServiceContext,
}

impl IdentityInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }

    async fn validate(&self, token: &str) -> Result<ValidateSessionResponse, IdentityError> {
        let hash = hash_presented(token).ok_or(IdentityError::SessionInvalid)?;
        let mut conn = self.context.pool.get().await?;
        let (session, user) = sessions::live_by_hash(&mut conn, &hash).await?.ok_or(IdentityError::SessionInvalid)?;
        sessions::touch(&mut conn, session.id, session.last_seen_at).await?;
        Ok(ValidateSessionResponse {
            user_id: to_api(user.id),
            session_id: to_api(session.id),
            expires_at: Some(timestamp(session.expires)),
            email_verified: user.email_verified.is_some(),
            is_active: user.is_active,
        })
    }

    async fn get(&self, user_id: &str) -> Result<GetUserResponse, IdentityError> {
        let id = parse_id("user_id", user_id).map_err(|v| IdentityError::Invalid(vec![v]))?;
        let mut conn = self.context.pool.get().await?;
        let user = users::by_id(&mut conn, id).await?.ok_or(IdentityError::NotFound("user"))?;
        let profile = users::profile(&mut conn, user.id).await?;
        Ok(GetUserResponse { user: Some(convert::user(&user)), profile: Some(convert::profile(&profile)) })
    }

    async fn batch(&self, raw: &[String]) -> Result<BatchGetUsersResponse, IdentityError> {
        if raw.is_empty() || raw.len() > MAX_BATCH {
            return Err(IdentityError::field("user_ids", "must hold 1-200 ids"));
        }
        let mut v = Violations::new();
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for (i, text) in raw.iter().enumerate() {
            if let Some(id) = v.check(parse_id(&format!("user_ids[{i}]"), text))
                && seen.insert(id)
            {
                ids.push(id);
            }
        }
        v.finish().map_err(IdentityError::Invalid)?;
        let mut conn = self.context.pool.get().await?;
        let found: HashMap<_, _> = users::by_ids(&mut conn, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
        let mut response = BatchGetUsersResponse::default();
        for id in ids {
            match found.get(&id) {
                Some(user) => response.users.push(convert::user(user)),
                None => response.not_found_ids.push(to_api(id)),
            }
        }
        Ok(response)
    }

    async fn daily_figures(&self, date: &str) -> Result<GetDailyFiguresResponse, IdentityError> {
        let day = UtcDay::parse("date", date).map_err(|v| IdentityError::Invalid(vec![v]))?;
        let mut conn = self.context.pool.get().await?;
        let active = sessions::active_users(&mut conn, day.start, day.end).await?;
        let new = users::created_between(&mut conn, day.start, day.end).await?;
        Ok(GetDailyFiguresResponse {
            figures: vec![figure("daily_active_users", count(active), &[]), figure("new_users", count(new), &[])],
        })
    }

    async fn subscription_changed(
        &self,
        principal: &Principal,
        request: HandleSubscriptionChangedRequest,
    ) -> Result<HandleSubscriptionChangedResponse, IdentityError> {
        // schema_version: checked by the handler (`accept_version`).
        let HandleSubscriptionChangedRequest { event_id, user_id, effective_tier, changed_at, schema_version: _ } =
            request;
        let mut v = Violations::new();
        let event_id = v.check(parse_id("event_id", &event_id));
        let user_id = v.check(parse_id("user_id", &user_id));
        let tier = SubscriptionTier::try_from(effective_tier).ok().filter(|t| *t != SubscriptionTier::Unspecified);
        if tier.is_none() {
            v.push(FieldViolation::new("effective_tier", "must be FREE, PRO or EDUCATOR"));
        }
        let changed_at = v.check(jazz_platform::fields::time("changed_at", changed_at.as_ref())).flatten();
        if changed_at.is_none() {
            v.push(FieldViolation::new("changed_at", "is required"));
        }
        v.finish().map_err(IdentityError::Invalid)?;
        let (Some(event_id), Some(user_id), Some(tier), Some(changed_at)) = (event_id, user_id, tier, changed_at)
        else {
            return Err(IdentityError::Invalid(Vec::new()));
        };
        let tier = tier.as_str_name();
        let mut conn = self.context.pool.get().await?;
        let changed = conn
            .transaction(async |conn| {
                if !mark_processed(conn, event_id, events::SUBSCRIPTION_CHANGED).await? {
                    return Ok::<_, IdentityError>(false);
                }
                let Some(before) = tiers::set(conn, user_id, tier, changed_at).await? else { return Ok(false) };
                AuditEntry::new(principal, "UPDATE", "user_tiers", Some(to_api(user_id)))
                    .by_user(user_id)
                    .with_change(before.map(|tier| json!({ "tier": tier })), Some(json!({ "tier": tier })))
                    .write(conn)
                    .await?;
                Ok(true)
            })
            .await?;
        Ok(HandleSubscriptionChangedResponse { duplicate: !changed })
    }
}

#[tonic::async_trait]
impl IdentityInternalService for IdentityInternalApi {
    async fn validate_session(
        &self,
        request: Request<ValidateSessionRequest>,
    ) -> Result<Response<ValidateSessionResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let ValidateSessionRequest { session_token } = request.into_inner();
        Ok(Response::new(self.validate(&session_token).await?))
    }

    async fn get_user(&self, request: Request<GetUserRequest>) -> Result<Response<GetUserResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let GetUserRequest { user_id } = request.into_inner();
        Ok(Response::new(self.get(&user_id).await?))
    }

    async fn batch_get_users(
        &self,
        request: Request<BatchGetUsersRequest>,
    ) -> Result<Response<BatchGetUsersResponse>, Status> {
        principal_of(&request)?.require_service()?;
        let BatchGetUsersRequest { user_ids } = request.into_inner();
        Ok(Response::new(self.batch(&user_ids).await?))
    }

    async fn list_audit_logs(
        &self,
        request: Request<ListAuditLogsRequest>,
    ) -> Result<Response<ListAuditLogsResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(audit_list::list(&self.context, request.into_inner()).await?))
    }

    async fn get_daily_figures(
        &self,
        request: Request<GetDailyFiguresRequest>,
    ) -> Result<Response<GetDailyFiguresResponse>, Status> {
        principal_of(&request)?.require_service()?;
        Ok(Response::new(self.daily_figures(&request.into_inner().date).await?))
    }

    async fn handle_subscription_changed(
        &self,
        request: Request<HandleSubscriptionChangedRequest>,
    ) -> Result<Response<HandleSubscriptionChangedResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        principal.require_service()?;
        jazz_platform::outbox::accept_version(events::SUBSCRIPTION_CHANGED, request.get_ref().schema_version)?;
        Ok(Response::new(self.subscription_changed(&principal, request.into_inner()).await?))
    }
}
