//! `jazz.progress.v1.PracticeService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::progress::v1::practice_service_server::PracticeService;
use jazz_platform::ServiceContext;

/// Handlers of `PracticeService`.
pub struct PracticeApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl PracticeApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl PracticeService for PracticeApi {}
