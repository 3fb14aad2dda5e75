//! gRPC handlers: decode, validate, call the domain, encode. Thin.

mod metrics_admin;
mod practice;
mod progress;
mod progress_internal;

pub use metrics_admin::MetricsAdminApi;
pub use practice::PracticeApi;
pub use progress::ProgressApi;
pub use progress_internal::ProgressInternalApi;
