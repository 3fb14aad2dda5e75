//! `jazz.identity.v1.AuthService` (public): each method checks the
//! principal and hands the request to its flow in `signup.rs` or
//! `recovery.rs`; the linked provider accounts in `accounts.rs`.

use jazz_contract::jazz::identity::v1::auth_service_server::AuthService;
use jazz_contract::jazz::identity::v1::*;
use jazz_platform::ServiceContext;
use jazz_platform::principal::principal_of;
use jazz_platform::relay::RelayWaker;
use tonic::{Request, Response, Status};

use super::{accounts, recovery, signin, signup};
use crate::config::IdentityOptions;
use crate::error::IdentityError;

/// Handlers of `AuthService`.
pub struct AuthApi {
    /// Pool, keys, configuration.
    pub(super) context: ServiceContext,
    /// Woken after a commit that queued a mail, so it goes out at once.
    pub(super) relay: RelayWaker,
    /// The provider-token key and the provider verifier.
    pub(super) options: IdentityOptions,
}

impl AuthApi {
    /// Handlers over the service's shared context, waking `relay` when they
    /// queue mail, linking accounts with `options`.
    pub fn new(context: ServiceContext, relay: RelayWaker, options: IdentityOptions) -> Self {
        Self { context, relay, options }
    }
}

fn reply<T>(result: Result<T, IdentityError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn sign_up(&self, request: Request<SignUpRequest>) -> Result<Response<SignUpResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(signup::sign_up(self, &principal, request.into_inner()).await)
    }

    async fn sign_in(&self, request: Request<SignInRequest>) -> Result<Response<SignInResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(signin::sign_in(self, &principal, request.into_inner()).await)
    }

    async fn sign_out(&self, request: Request<SignOutRequest>) -> Result<Response<SignOutResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        let session_id = principal.session_id.ok_or_else(|| Status::from(IdentityError::SessionInvalid))?;
        reply(signin::sign_out(self, &principal, user_id, session_id).await)
    }

    async fn request_email_verification(
        &self,
        request: Request<RequestEmailVerificationRequest>,
    ) -> Result<Response<RequestEmailVerificationResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(signup::request_email_verification(self, &principal, request.into_inner()).await)
    }

    async fn verify_email(
        &self,
        request: Request<VerifyEmailRequest>,
    ) -> Result<Response<VerifyEmailResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(signup::verify_email(self, &principal, request.into_inner()).await)
    }

    async fn request_password_reset(
        &self,
        request: Request<RequestPasswordResetRequest>,
    ) -> Result<Response<RequestPasswordResetResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let RequestPasswordResetRequest { email } = request.into_inner();
        let result = recovery::request_link(self, &principal, &email, crate::store::tokens::Purpose::PasswordReset);
        reply(result.await.map(|()| RequestPasswordResetResponse {}))
    }

    async fn reset_password(
        &self,
        request: Request<ResetPasswordRequest>,
    ) -> Result<Response<ResetPasswordResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(recovery::reset_password(self, &principal, request.into_inner()).await)
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<ChangePasswordResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        reply(recovery::change_password(self, &principal, user_id, request.into_inner()).await)
    }

    async fn request_magic_link(
        &self,
        request: Request<RequestMagicLinkRequest>,
    ) -> Result<Response<RequestMagicLinkResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let RequestMagicLinkRequest { email } = request.into_inner();
        let result = recovery::request_link(self, &principal, &email, crate::store::tokens::Purpose::MagicLink);
        reply(result.await.map(|()| RequestMagicLinkResponse {}))
    }

    async fn sign_in_with_magic_link(
        &self,
        request: Request<SignInWithMagicLinkRequest>,
    ) -> Result<Response<SignInWithMagicLinkResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        reply(recovery::sign_in_with_magic_link(self, &principal, request.into_inner()).await)
    }

    async fn link_account(
        &self,
        request: Request<LinkAccountRequest>,
    ) -> Result<Response<LinkAccountResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        reply(accounts::link(self, &principal, user_id, request.into_inner()).await)
    }

    async fn unlink_account(
        &self,
        request: Request<UnlinkAccountRequest>,
    ) -> Result<Response<UnlinkAccountResponse>, Status> {
        let principal = principal_of(&request)?.clone();
        let user_id = principal.require_user()?;
        reply(accounts::unlink(self, &principal, user_id, request.into_inner()).await)
    }

    async fn list_accounts(
        &self,
        request: Request<ListAccountsRequest>,
    ) -> Result<Response<ListAccountsResponse>, Status> {
        let user_id = principal_of(&request)?.require_user()?;
        reply(accounts::list(self, user_id, request.into_inner()).await)
    }
}
