//! Where Stripe may send the browser back to (`billing.proto`): an https URL
//! on the configured allow-list of origins, or the app's own custom scheme
//! (`jazzmaster://billing/done`), at most 2048 characters. Anything else
//! would make our Stripe pages an open redirect.

use jazz_platform::error::FieldViolation;

/// Longest redirect URL (`billing.proto`).
pub const MAX_URL_CHARS: usize = 2048;

/// Why the rules themselves cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedirectConfigError {
    /// An allow-list entry that is not `https://host[:port]`.
    #[error("{0:?} is not an https origin (https://host[:port])")]
    Origin(String),
    /// A custom scheme that is not a URL scheme.
    #[error("{0:?} is not a URL scheme")]
    Scheme(String),
}

/// The allowed redirect targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectRules {
    /// Lower-case `https://host[:port]` origins.
    origins: Vec<String>,
    /// Lower-case custom scheme, without `://`.
    app_scheme: String,
}

impl RedirectRules {
    /// Rules from allow-listed origins and the app's scheme.
    pub fn new(origins: &[&str], app_scheme: &str) -> Result<Self, RedirectConfigError> {
        let origins = origins
            .iter()
            .map(|origin| {
                let lower = origin.trim_end_matches('/').to_ascii_lowercase();
                match lower.strip_prefix("https://") {
                    Some(authority) if is_authority(authority) => Ok(lower),
                    _ => Err(RedirectConfigError::Origin((*origin).to_owned())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let app_scheme = app_scheme.to_ascii_lowercase();
        let scheme_ok = app_scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && app_scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !matches!(app_scheme.as_str(), "http" | "https" | "javascript" | "data" | "file");
        if !scheme_ok {
            return Err(RedirectConfigError::Scheme(app_scheme));
        }
        Ok(Self { origins, app_scheme })
    }

    /// `value` as a redirect URL for `field`, or the violation naming it.
    pub fn check(&self, field: &str, value: &str) -> Result<String, FieldViolation> {
        if value.is_empty() {
            return Err(FieldViolation::new(field, "is required"));
        }
        if value.chars().count() > MAX_URL_CHARS {
            return Err(FieldViolation::new(field, format!("must be at most {MAX_URL_CHARS} characters")));
        }
        if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(FieldViolation::new(field, "must not contain spaces or control characters"));
        }
        let refused = || {
            FieldViolation::new(
                field,
                format!("must be an https URL on the allowed list or a {}:// link", self.app_scheme),
            )
        };
        let (scheme, rest) = value.split_once("://").ok_or_else(refused)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme == self.app_scheme {
            return if rest.is_empty() { Err(refused()) } else { Ok(value.to_owned()) };
        }
        if scheme != "https" {
            return Err(refused());
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or_default().to_ascii_lowercase();
        if !is_authority(&authority) {
            return Err(refused());
        }
        let origin = format!("https://{authority}");
        if self.origins.contains(&origin) { Ok(value.to_owned()) } else { Err(refused()) }
    }
}

/// `host[:port]` without user info (`https://good@evil` stays out).
fn is_authority(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !text.starts_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_origins_and_the_app_scheme_pass() -> Result<(), RedirectConfigError> {
        let rules = RedirectRules::new(&["https://app.jazzmaster.test", "https://Pay.Example:8443/"], "jazzmaster")?;
        for good in [
            "https://app.jazzmaster.test/billing/done?x=1",
            "https://APP.jazzmaster.test",
            "https://pay.example:8443/back#top",
            "jazzmaster://billing/done",
        ] {
            assert_eq!(rules.check("success_url", good).ok().as_deref(), Some(good), "{good}");
        }
        let long = format!("https://app.jazzmaster.test/{}", "a".repeat(2048));
        for bad in [
            "",
            "http://app.jazzmaster.test/x",
            "https://evil.test/x",
            "https://app.jazzmaster.test@evil.test/x",
            "https://app.jazzmaster.test.evil.test/",
            "https://pay.example/x",
            "javascript://alert(1)",
            "jazzmaster://",
            "app.jazzmaster.test/x",
            "https://app.jazzmaster.test/a b",
            &long,
        ] {
            assert_eq!(rules.check("cancel_url", bad).err().map(|v| v.field), Some("cancel_url".into()), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(RedirectRules::new(&["http://app.test"], "jazzmaster").is_err());
        assert!(RedirectRules::new(&["https://"], "jazzmaster").is_err());
        assert!(RedirectRules::new(&[], "https").is_err());
        assert!(RedirectRules::new(&[], "1abc").is_err());
        assert!(RedirectRules::new(&[], "jazz-master").is_ok());
    }
}
