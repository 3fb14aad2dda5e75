//! `jazz.billing.v1.BillingInternalService` (internal).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::billing::v1::billing_internal_service_server::BillingInternalService;
use jazz_platform::ServiceContext;

/// Handlers of `BillingInternalService`.
pub struct BillingInternalApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl BillingInternalApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl BillingInternalService for BillingInternalApi {}
