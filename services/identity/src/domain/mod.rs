//! Identity's rules and pure logic: no I/O here. Newtypes that parse (email,
//! password policy, names, time zones, locales), secret tokens,
//! feature-flag evaluation, provider names, the sealing of provider tokens,
//! and the account's retention window.

/// How long a deleted account can be restored before it is purged.
pub const RETENTION: chrono::Duration = chrono::Duration::days(30);

/// How every identity replay scope starts (a purge forgets the user's).
pub const REPLAY_PREFIX: &str = "identity.";

pub mod email;
pub mod fields;
pub mod flags;
pub mod password;
pub mod password_policy;
pub mod providers;
pub mod sealed;
pub mod token;
