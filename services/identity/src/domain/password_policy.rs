//! The rules a new password must meet (see `auth.proto`): at least 12
//! characters, at most 1024 bytes of UTF-8 (refused before any hashing, so
//! a huge input costs nothing), no control characters, not one of the most
//! common passwords. Any other Unicode is fine and nothing is truncated.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::IdentityError;
use jazz_platform::error::Reason;

/// Fewest characters (Unicode scalar values) of a new password.
pub const MIN_CHARS: usize = 12;
/// Most bytes of any password, new or presented.
pub const MAX_BYTES: usize = 1024;

const COMMON: &str = include_str!("common_passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(str::trim).filter(|line| !line.is_empty()).collect())
}

/// A password that passed the policy; only ever hashed, never stored or
/// logged (its `Debug` hides it).
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

fn refuse(field: &'static str, description: &str, reason: Reason) -> IdentityError {
    IdentityError::InvalidWithReason { field, description: description.to_owned(), reason }
}

impl NewPassword {
    /// Checks `raw` (sent in request field `field`) against the policy.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, IdentityError> {
        check_presented(field, raw)?;
        if raw.chars().any(char::is_control) {
            return Err(IdentityError::field(field, "must not contain control characters"));
        }
        if raw.chars().count() < MIN_CHARS {
            return Err(refuse(field, "must be at least 12 characters", Reason::PasswordTooShort));
        }
        if common().contains(raw.to_lowercase().as_str()) {
            return Err(refuse(field, "is too common; choose another", Reason::PasswordTooCommon));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The size check every presented password (sign-in, current password)
/// passes before it is hashed: present and at most [`MAX_BYTES`].
pub fn check_presented(field: &'static str, raw: &str) -> Result<(), IdentityError> {
    if raw.is_empty() {
        return Err(IdentityError::field(field, "is required"));
    }
    if raw.len() > MAX_BYTES {
        return Err(refuse(field, "must be at most 1024 bytes", Reason::PasswordTooLong));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> Option<&'static str> {
        match NewPassword::parse("password", raw) {
            Ok(_) => None,
            Err(IdentityError::InvalidWithReason { reason, .. }) => Some(reason.as_str()),
            Err(_) => Some("OTHER"),
        }
    }

    #[test]
    fn the_policy_refuses_short_long_common_and_control_passwords() {
        assert_eq!(reason("short"), Some("PASSWORD_TOO_SHORT"));
        assert_eq!(reason(&"x".repeat(1025)), Some("PASSWORD_TOO_LONG"));
        assert_eq!(reason("Password1234"), Some("PASSWORD_TOO_COMMON"));
        assert_eq!(reason("has a\0nul byte"), Some("OTHER"));
        assert_eq!(reason(""), Some("OTHER"));
        assert!(common().len() >= 200);
    }

    #[test]
    fn long_unicode_passwords_are_accepted_whole() {
        // 12 characters but 36 bytes; and 341 three-byte characters = 1023 bytes.
        assert_eq!(reason("♫♫♫♫♫♫♫♫♫♫♫♫"), None);
        let long = "♫".repeat(341);
        let parsed = NewPassword::parse("password", &long).map(|p| p.expose().len());
        assert_eq!(parsed.ok(), Some(1023));
        assert_eq!(reason(&"♫".repeat(342)), Some("PASSWORD_TOO_LONG"));
    }
}
