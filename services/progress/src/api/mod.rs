//! gRPC handlers: decode, validate, call the domain and the store inside
//! one transaction, encode. Thin; rules live in `domain/`.

mod convert;
mod learning;
mod metrics_admin;
mod page;
mod practice;
mod progress;
mod progress_internal;
mod recommend;
mod records;
mod replay;
mod scoring;
mod scoring_convert;
mod scoring_stream;
mod sessions;
mod summary;

pub use metrics_admin::MetricsAdminApi;
pub use practice::PracticeApi;
pub use progress::ProgressApi;
pub use progress_internal::ProgressInternalApi;
