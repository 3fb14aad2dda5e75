//! gRPC handlers: decode, validate, call the domain and the store, encode.
//! One file per service (`auth.rs`, `user.rs`, …) with the longer flows in
//! files of their own (`signup.rs`, `signin.rs`, `recovery.rs`,
//! `profile.rs`, `user_sessions.rs`, `accounts.rs`, `undelete.rs`,
//! `admin_flags.rs`, `audit_list.rs`).

mod accounts;
mod admin_flags;
mod audit_list;
mod audit_trail;
mod auth;
mod convert;
mod feature_flag;
mod identity_admin;
mod identity_internal;
mod page;
mod profile;
mod recovery;
mod signin;
mod signup;
mod support;
mod undelete;
mod user;
mod user_sessions;

pub use auth::AuthApi;
pub use feature_flag::FeatureFlagApi;
pub use identity_admin::IdentityAdminApi;
pub use identity_internal::IdentityInternalApi;
pub use support::warm_up;
pub use user::UserApi;
