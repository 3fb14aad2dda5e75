//! `jazz.identity.v1.AuthService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::identity::v1::auth_service_server::AuthService;
use jazz_platform::ServiceContext;

/// Handlers of `AuthService`.
pub struct AuthApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl AuthApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {}
