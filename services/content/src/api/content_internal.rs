//! `jazz.content.v1.ContentInternalService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::content::v1::content_internal_service_server::ContentInternalService;
use jazz_platform::ServiceContext;

/// Handlers of `ContentInternalService`.
pub struct ContentInternalApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl ContentInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl ContentInternalService for ContentInternalApi {}
