//! `jazz.progress.v1.MetricsAdminService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::progress::v1::metrics_admin_service_server::MetricsAdminService;
use jazz_platform::ServiceContext;

/// Handlers of `MetricsAdminService`.
pub struct MetricsAdminApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl MetricsAdminApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl MetricsAdminService for MetricsAdminApi {}
