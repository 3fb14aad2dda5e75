//! `jazz.identity.v1.UserService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::identity::v1::user_service_server::UserService;
use jazz_platform::ServiceContext;

/// Handlers of `UserService`.
pub struct UserApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl UserApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl UserService for UserApi {}
