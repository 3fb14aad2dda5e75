//! `jazz.identity.v1.IdentityAdminService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::identity::v1::identity_admin_service_server::IdentityAdminService;
use jazz_platform::ServiceContext;

/// Handlers of `IdentityAdminService`.
pub struct IdentityAdminApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl IdentityAdminApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl IdentityAdminService for IdentityAdminApi {}
