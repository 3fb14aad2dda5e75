//! `jazz.identity.v1.UserService` (public, the caller's own account): every
//! method needs a session and acts on the principal's user only. GetMe,
//! UpdateMe and DeleteMe live here; the profile and session methods in
//! `profile.rs` and `user_sessions.rs`, UndeleteMe (which needs no
//! session) in `undelete.rs`.

use chrono::Utc;
use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::identity::v1::user_service_server::UserService;
use jazz_contract::jazz::identity::v1::*;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::Violations;
use jazz_platform::ids::to_api;
use jazz_platform::principal::principal_of;
use jazz_platform::{Principal, ServiceContext};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{convert, profile, undelete, user_sessions};
use crate::domain::fields;
use crate::error::IdentityError;
use crate::store::models::UserRow;
use crate::store::sessions;
use crate::store::users::{self, UserChanges};

/// Handlers of `UserService`.
pub struct UserApi {
    pub(super) context: ServiceContext,
}

impl UserApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }

    async fn me(&self, user_id: Uuid) -> Result<UserRow, IdentityError> {
        let mut conn = self.context.pool.get().await?;
        users::by_id(&mut conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)
    }

    async fn update_me(
        &self,
        principal: &Principal,
        user_id: Uuid,
        req: UpdateMeRequest,
    ) -> Result<UserRow, IdentityError> {
        let UpdateMeRequest { user, update_mask } = req;
        let paths = update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(IdentityError::field("update_mask", "must name at least one field"));
        }
        let user = user.unwrap_or_default();
        let mut v = Violations::new();
        let mut changes = UserChanges::default();
        for path in &paths {
            match path.as_str() {
                "first_name" => changes.first_name = v.check(fields::name("user.first_name", &user.first_name, 100)),
                "last_name" => changes.last_name = v.check(fields::name("user.last_name", &user.last_name, 100)),
                "username" => changes.username = v.check(fields::username("user.username", &user.username)),
                "avatar" => changes.avatar = v.check(fields::avatar("user.avatar", &user.avatar)),
                "timezone" => changes.timezone = v.check(fields::timezone("user.timezone", &user.timezone)),
                "locale" => changes.locale = v.check(fields::locale("user.locale", &user.locale)),
                other => v.push(jazz_platform::error::FieldViolation::new(
                    "update_mask",
                    format!("{other:?} cannot be changed; allowed: first_name, last_name, username, avatar, timezone, locale"),
                )),
            }
        }
        v.finish().map_err(IdentityError::Invalid)?;
        let mut conn = self.context.pool.get().await?;
        let result = conn
            .transaction(async |conn| {
                let before =
                    users::by_id(conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)?;
                if let Some(Some(name)) = &changes.username
                    && users::username_taken(conn, name, Some(user_id)).await?
                {
                    return Err(IdentityError::UsernameTaken);
                }
                let after = users::update(conn, user_id, &changes).await?;
                AuditEntry::new(principal, "UPDATE", "users", Some(to_api(user_id)))
                    .with_change(Some(before.audit_json()), Some(after.audit_json()))
                    .write(conn)
                    .await?;
                Ok(after)
            })
            .await;
        match result {
            Err(IdentityError::Store(jazz_platform::error::StoreError::UniqueViolation(c)))
                if c == "idx_users_username" =>
            {
                Err(IdentityError::UsernameTaken)
            }
            other => other,
        }
    }

    async fn delete_me(&self, principal: &Principal, user_id: Uuid) -> Result<UserRow, IdentityError> {
        let mut conn = self.context.pool.get().await?;
        conn.transaction(async |conn| {
            let before =
                users::by_id(conn, user_id).await?.filter(UserRow::is_live).ok_or(IdentityError::SessionInvalid)?;
            let after = users::soft_delete(conn, user_id, Utc::now()).await?;
            let revoked = sessions::revoke_all(conn, user_id, None).await?;
            AuditEntry::new(principal, "DELETE", "users", Some(to_api(user_id)))
                .with_change(Some(before.audit_json()), Some(serde_json::json!({ "revoked_sessions": revoked })))
                .write(conn)
                .await?;
            let purge_time = after.deleted_at.map(|at| at + crate::domain::RETENTION);
            let payload = serde_json::json!({ "user_id": to_api(user_id), "purge_time": purge_time });
            jazz_platform::outbox::enqueue(
                conn,
                jazz_platform::outbox::events::USER_DELETED,
                &to_api(user_id),
                payload,
            )
            .await?;
            Ok(after)
        })
        .await
    }
}

/// The signed-in user of a request, cloned out of it.
pub(super) fn caller<T>(request: &Request<T>) -> Result<(Principal, Uuid), Status> {
    let principal = principal_of(request)?.clone();
    let user_id = principal.require_user()?;
    Ok((principal, user_id))
}

#[tonic::async_trait]
impl UserService for UserApi {
    async fn get_me(&self, request: Request<GetMeRequest>) -> Result<Response<GetMeResponse>, Status> {
        let (_, user_id) = caller(&request)?;
        let user = self.me(user_id).await?;
        Ok(Response::new(GetMeResponse { user: Some(convert::user(&user)) }))
    }

    async fn update_me(&self, request: Request<UpdateMeRequest>) -> Result<Response<UpdateMeResponse>, Status> {
        let (principal, user_id) = caller(&request)?;
        let user = self.update_me(&principal, user_id, request.into_inner()).await?;
        Ok(Response::new(UpdateMeResponse { user: Some(convert::user(&user)) }))
    }

    async fn delete_me(&self, request: Request<DeleteMeRequest>) -> Result<Response<DeleteMeResponse>, Status> {
        let (principal, user_id) = caller(&request)?;
        let user = self.delete_me(&principal, user_id).await?;
        Ok(Response::new(DeleteMeResponse { user: Some(convert::user(&user)) }))
    }

    async fn undelete_me(&self, request: Request<UndeleteMeRequest>) -> Result<Response<UndeleteMeResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        Ok(Response::new(undelete::undelete(self, &principal, request.into_inner()).await?))
    }

    async fn get_profile(&self, request: Request<GetProfileRequest>) -> Result<Response<GetProfileResponse>, Status> {
        let (_, user_id) = caller(&request)?;
        Ok(Response::new(profile::get(self, user_id).await?))
    }

    async fn update_profile(
        &self,
        request: Request<UpdateProfileRequest>,
    ) -> Result<Response<UpdateProfileResponse>, Status> {
        let (principal, user_id) = caller(&request)?;
        Ok(Response::new(profile::update(self, &principal, user_id, request.into_inner()).await?))
    }

    async fn list_sessions(
        &self,
        request: Request<ListSessionsRequest>,
    ) -> Result<Response<ListSessionsResponse>, Status> {
        let (principal, user_id) = caller(&request)?;
        Ok(Response::new(user_sessions::list(self, &principal, user_id, request.into_inner()).await?))
    }

    async fn revoke_session(
        &self,
        request: Request<RevokeSessionRequest>,
    ) -> Result<Response<RevokeSessionResponse>, Status> {
        let (principal, user_id) = caller(&request)?;
        Ok(Response::new(user_sessions::revoke(self, &principal, user_id, request.into_inner()).await?))
    }
}
