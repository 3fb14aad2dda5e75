//! Email addresses: trimmed, lower-cased, at most 254 characters, with a
//! plausible shape. Delivery is the real test; this only keeps garbage out.

use jazz_platform::error::FieldViolation;

/// Longest address accepted (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL: usize = 254;

/// A normalised email address, as stored in `users.email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses `raw` sent in request field `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldViolation::new(field, "is required"));
        }
        if email.chars().count() > MAX_EMAIL {
            return Err(FieldViolation::new(field, "must be at most 254 characters"));
        }
        let bad = || FieldViolation::new(field, "must be an email address like name@example.com");
        if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(Self(email)) } else { Err(bad()) }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let email = Email::parse("email", "  Ada.Lovelace@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email.ok().as_deref(), Some("ada.lovelace@example.com"));
    }

    #[test]
    fn malformed_addresses_name_the_field() {
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in ["", "plain", "@example.com", "a@b", "a@@b.com", "a b@c.com", "a@b.com\0", "a@-b.com", &long] {
            assert_eq!(Email::parse("email", bad).err().map(|v| v.field), Some("email".into()), "{bad:?}");
        }
    }
}
