//! Identity's rules and pure logic: no I/O here. Newtypes that parse (email,
//! password policy, names, time zones, locales), secret tokens, JSON limits
//! and feature-flag evaluation.

pub mod email;
pub mod fields;
pub mod flags;
pub mod json;
pub mod password;
pub mod password_policy;
pub mod token;
