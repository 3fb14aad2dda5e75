//! gRPC handlers: decode, validate, call the domain, encode. Thin.

mod auth;
mod feature_flag;
mod identity_admin;
mod identity_internal;
mod user;

pub use auth::AuthApi;
pub use feature_flag::FeatureFlagApi;
pub use identity_admin::IdentityAdminApi;
pub use identity_internal::IdentityInternalApi;
pub use user::UserApi;
