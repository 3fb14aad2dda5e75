//! Identity's rules and pure logic: no I/O here. Newtypes that parse (email,
//! password policy, names, time zones, locales), secret tokens, JSON limits,
//! feature-flag evaluation, provider names and the sealing of provider
//! tokens.

pub mod email;
pub mod fields;
pub mod flags;
pub mod password;
pub mod password_policy;
pub mod providers;
pub mod sealed;
pub mod token;
