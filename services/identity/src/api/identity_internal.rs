//! `jazz.identity.v1.IdentityInternalService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::identity::v1::identity_internal_service_server::IdentityInternalService;
use jazz_platform::ServiceContext;

/// Handlers of `IdentityInternalService`.
pub struct IdentityInternalApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl IdentityInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl IdentityInternalService for IdentityInternalApi {}
