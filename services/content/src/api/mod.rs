//! gRPC handlers: decode, validate, call the domain, encode. Thin.

mod content;
mod content_internal;

pub use content::ContentApi;
pub use content_internal::ContentInternalApi;
