//! `jazz.progress.v1.ProgressInternalService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::progress::v1::progress_internal_service_server::ProgressInternalService;
use jazz_platform::ServiceContext;

/// Handlers of `ProgressInternalService`.
pub struct ProgressInternalApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl ProgressInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl ProgressInternalService for ProgressInternalApi {}
