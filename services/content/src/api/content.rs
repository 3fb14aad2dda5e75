//! `jazz.content.v1.ContentService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::content::v1::content_service_server::ContentService;
use jazz_platform::ServiceContext;

/// Handlers of `ContentService`.
pub struct ContentApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl ContentApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl ContentService for ContentApi {}
