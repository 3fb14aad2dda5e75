//! The user's editable fields: names, username, avatar, time zone, locale.
//! Each parses into a value ready to store, or a violation naming the field.

use std::str::FromStr as _;

use jazz_platform::error::FieldViolation;

/// Text with no control characters (NUL included), trimmed, of 1..=`max`
/// characters: given and family names.
pub fn name(field: &str, raw: &str, max: usize) -> Result<String, FieldViolation> {
    if raw.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    let value = raw.trim();
    match value.chars().count() {
        0 => Err(FieldViolation::new(field, "is required")),
        n if n > max => Err(FieldViolation::new(field, format!("must be at most {max} characters"))),
        _ => Ok(value.to_owned()),
    }
}

/// An optional public handle: empty for none, else 3–30 characters of
/// `[a-z0-9_]` starting with a letter; compared case-insensitively, so it is
/// lower-cased first.
pub fn username(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let value = raw.to_lowercase();
    let starts_with_letter = value.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let charset = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if (3..=30).contains(&value.len()) && starts_with_letter && charset {
        Ok(Some(value))
    } else {
        Err(FieldViolation::new(field, "must be 3-30 characters of a-z, 0-9 and _, starting with a letter"))
    }
}

/// An optional avatar URL: empty for none, else `https://…` of at most 2048
/// characters without spaces or control characters.
pub fn avatar(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let host_present = raw.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if raw.len() > 2048 || !host_present || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldViolation::new(field, "must be an https URL of at most 2048 characters"));
    }
    Ok(Some(raw.to_owned()))
}

/// An IANA time zone name (checked against the tz database); empty → UTC.
pub fn timezone(field: &str, raw: &str) -> Result<String, FieldViolation> {
    if raw.is_empty() {
        return Ok("UTC".to_owned());
    }
    match chrono_tz::Tz::from_str(raw) {
        Ok(zone) if raw.len() <= 64 => Ok(zone.name().to_owned()),
        _ => Err(FieldViolation::new(field, "must be an IANA time zone such as Europe/Berlin")),
    }
}

/// A BCP 47 language tag (shape only: a 2–3 or 5–8 letter language, then
/// subtags of 1–8 letters or digits, 2–35 characters in all); empty → `en`.
pub fn locale(field: &str, raw: &str) -> Result<String, FieldViolation> {
    if raw.is_empty() {
        return Ok("en".to_owned());
    }
    let mut subtags = raw.split('-');
    let language_ok = subtags.next().is_some_and(|language| {
        matches!(language.len(), 2 | 3 | 5..=8) && language.chars().all(|c| c.is_ascii_alphabetic())
    });
    let rest_ok = subtags.all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
    if language_ok && rest_ok && (2..=35).contains(&raw.len()) {
        Ok(raw.to_owned())
    } else {
        Err(FieldViolation::new(field, "must be a BCP 47 language tag such as en or de-AT"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_characters_and_blank_values() {
        assert_eq!(name("first_name", "  Bill ", 100).ok().as_deref(), Some("Bill"));
        assert!(name("first_name", "Bi\0ll", 100).is_err());
        assert!(name("first_name", "   ", 100).is_err());
        assert!(name("first_name", &"é".repeat(101), 100).is_err());
        assert!(name("first_name", &"é".repeat(100), 100).is_ok());
    }

    #[test]
    fn usernames_are_lower_case_handles() {
        assert_eq!(username("username", "Bill_Evans").ok().flatten().as_deref(), Some("bill_evans"));
        assert_eq!(username("username", "").ok(), Some(None));
        for bad in ["ab", "1bill", "bill evans", "bill-evans", &"a".repeat(31)] {
            assert!(username("username", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_and_locales_are_checked() {
        assert_eq!(timezone("timezone", "").ok().as_deref(), Some("UTC"));
        assert_eq!(timezone("timezone", "America/New_York").ok().as_deref(), Some("America/New_York"));
        assert!(timezone("timezone", "Mars/Olympus_Mons").is_err());
        assert_eq!(locale("locale", "").ok().as_deref(), Some("en"));
        for good in ["en", "de-AT", "zh-Hant-TW", "es-419"] {
            assert!(locale("locale", good).is_ok(), "{good}");
        }
        for bad in ["e", "english_US", "en--US", "en-", "d3"] {
            assert!(locale("locale", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn avatars_are_https_urls() {
        assert!(avatar("avatar", "https://cdn.example.com/a.png").is_ok());
        assert!(avatar("avatar", "http://cdn.example.com/a.png").is_err());
        assert!(avatar("avatar", "https://").is_err());
    }
}
