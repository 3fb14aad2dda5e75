//! gRPC handlers: decode, validate, call the domain, encode. Thin.

mod billing;
mod billing_internal;

pub use billing::BillingApi;
pub use billing_internal::BillingInternalApi;
