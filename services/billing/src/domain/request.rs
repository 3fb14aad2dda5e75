//! Request fields that parse into values the rest of the code can trust;
//! each refusal names the field.

use jazz_platform::error::FieldViolation;

use super::catalogue::is_feature_name;

/// Units per ConsumeQuota call (`billing_internal.proto`: 1–1000).
pub const MAX_QUANTITY: i64 = 1000;

/// Longest idempotency key (`billing_internal.proto`: 1–128 characters;
/// the column allows 200).
pub const MAX_KEY_CHARS: usize = 128;

/// A well-formed feature name (whether a plan knows it is checked against
/// the catalogue).
pub fn feature(value: &str) -> Result<String, FieldViolation> {
    if value.is_empty() {
        return Err(FieldViolation::new("feature", "is required"));
    }
    if !is_feature_name(value) {
        return Err(FieldViolation::new("feature", "must be a lower_snake_case feature name, e.g. ai_generation"));
    }
    Ok(value.to_owned())
}

/// Units to consume, 1–1000 (fits the `integer` column).
pub fn quantity(value: i64) -> Result<i32, FieldViolation> {
    if !(1..=MAX_QUANTITY).contains(&value) {
        return Err(FieldViolation::new("quantity", format!("must be between 1 and {MAX_QUANTITY}")));
    }
    i32::try_from(value).map_err(|_| FieldViolation::new("quantity", "is out of range"))
}

/// The caller's key for a grant: 1–128 characters, no control characters.
pub fn idempotency_key(value: &str) -> Result<String, FieldViolation> {
    let field = "idempotency_key";
    if value.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    if value.chars().count() > MAX_KEY_CHARS {
        return Err(FieldViolation::new(field, format!("must be at most {MAX_KEY_CHARS} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_named() {
        assert_eq!(feature("ai_generation").ok().as_deref(), Some("ai_generation"));
        for bad in ["", "AI", "ai-generation", "1x", &"a".repeat(65)] {
            assert_eq!(feature(bad).err().map(|v| v.field), Some("feature".into()), "{bad:?}");
        }
        assert_eq!(quantity(1).ok(), Some(1));
        assert_eq!(quantity(1000).ok(), Some(1000));
        for bad in [0, -1, 1001, i64::MAX, i64::MIN] {
            assert_eq!(quantity(bad).err().map(|v| v.field), Some("quantity".into()));
        }
        assert!(idempotency_key(&"é".repeat(128)).is_ok());
        for bad in ["", "a\0b", &"k".repeat(129)] {
            assert_eq!(idempotency_key(bad).err().map(|v| v.field), Some("idempotency_key".into()));
        }
    }
}
