//! `jazz.progress.v1.ProgressService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::progress::v1::progress_service_server::ProgressService;
use jazz_platform::ServiceContext;

/// Handlers of `ProgressService`.
pub struct ProgressApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl ProgressApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl ProgressService for ProgressApi {}
