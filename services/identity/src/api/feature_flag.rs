//! `jazz.identity.v1.FeatureFlagService` (public).
//!
//! Every method answers UNIMPLEMENTED until its issue lands (the generated
//! trait's default methods); handlers are added here as they are built.

use jazz_contract::jazz::identity::v1::feature_flag_service_server::FeatureFlagService;
use jazz_platform::ServiceContext;

/// Handlers of `FeatureFlagService`.
pub struct FeatureFlagApi {
    #[expect(dead_code, reason = "used by the handlers of the issue that implements this service")]
    context: ServiceContext,
}

impl FeatureFlagApi {
    /// Handlers over the service's shared context.
    pub fn new(context: ServiceContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl FeatureFlagService for FeatureFlagApi {}
