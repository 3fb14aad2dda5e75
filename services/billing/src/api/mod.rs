//! gRPC handlers: decode, validate, call the domain and the store inside
//! one transaction, encode. Thin; rules live in `domain/`.

mod account;
mod audit_list;
mod billing;
mod billing_internal;
mod cancel;
mod checkout;
mod convert;
mod page;
mod payments;
mod plans;
mod purge;
mod quota;
mod stripe_webhook;

pub use billing::BillingApi;
pub use billing_internal::BillingInternalApi;
pub use payments::Payments;
pub use plans::Plans;
