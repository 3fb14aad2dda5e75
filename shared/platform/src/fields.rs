//! The field rules every service shares, each parsing a request field into
//! the value the handler goes on with (parse, don't validate) or answering
//! a [`FieldViolation`] naming the field: plain text, `request_id`,
//! `page_size`, and protobuf timestamps. Rules of one service's own fields
//! live in that service's `domain/`.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::error::FieldViolation;

/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Largest page; bigger requests are coerced to it.
pub const MAX_PAGE_SIZE: i64 = 200;
/// Longest `request_id`.
pub const MAX_REQUEST_ID: usize = 64;

/// Refuses NUL and other control characters (newlines, tabs and carriage
/// returns aside) and text longer than `max` characters.
pub fn plain_text(field: &str, text: &str, max: usize) -> Result<(), FieldViolation> {
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    if text.chars().count() > max {
        return Err(FieldViolation::new(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

/// A client's `request_id` (AIP-155) in request field `field`: empty →
/// `None` (no de-duplication); else at most 64 of `[A-Za-z0-9_-]`.
pub fn request_id(field: &str, text: &str) -> Result<Option<String>, FieldViolation> {
    if text.is_empty() {
        return Ok(None);
    }
    let ok = text.len() <= MAX_REQUEST_ID && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(Some(text.to_owned()))
    } else {
        Err(FieldViolation::new(field, "must be at most 64 characters of A-Z, a-z, 0-9, _ and -"))
    }
}

/// `page_size` (AIP-158): 0 → 50, above 200 → 200, negative refused.
pub fn page_size(value: i32) -> Result<i64, FieldViolation> {
    page_size_within(value, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// `page_size` of a method with its own sizes: 0 → `default`, above `max`
/// → `max`, negative refused.
pub fn page_size_within(value: i32, default: i64, max: i64) -> Result<i64, FieldViolation> {
    match i64::from(value) {
        n if n < 0 => Err(FieldViolation::new("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok(n.min(max)),
    }
}

/// A time as a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp { seconds: at.timestamp(), nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// A protobuf timestamp as a time; `None` when out of range.
pub fn from_timestamp(at: &Timestamp) -> Option<DateTime<Utc>> {
    u32::try_from(at.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
}

/// An optional protobuf timestamp in field `field` as a time, or a
/// violation naming the field when out of range.
pub fn time(field: &str, value: Option<&Timestamp>) -> Result<Option<DateTime<Utc>>, FieldViolation> {
    value.map(|at| from_timestamp(at).ok_or_else(|| FieldViolation::new(field, "is out of range"))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_coerce_and_refuse_negatives() {
        assert_eq!(page_size(0).ok(), Some(50));
        assert_eq!(page_size(1000).ok(), Some(200));
        assert_eq!(page_size(3).ok(), Some(3));
        assert_eq!(page_size(-1).err().map(|v| v.field), Some("page_size".into()));
    }

    #[test]
    fn request_ids_parse_to_an_optional_key() {
        assert_eq!(request_id("request_id", "").ok(), Some(None));
        assert_eq!(request_id("request_id", "a-b_C9").ok(), Some(Some("a-b_C9".to_owned())));
        assert_eq!(request_id("request_id", "a b").err().map(|v| v.field), Some("request_id".into()));
        assert!(request_id("request_id", &"x".repeat(65)).is_err());
        assert!(request_id("request_id", "é").is_err());
    }

    #[test]
    fn plain_text_refuses_control_characters_and_length() {
        assert!(plain_text("t", "a\nb\tc", 10).is_ok());
        assert!(plain_text("t", "a\0b", 10).is_err());
        assert!(plain_text("t", &"é".repeat(11), 10).is_err());
    }

    #[test]
    fn timestamps_round_trip_and_out_of_range_names_the_field() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap_or_default();
        assert_eq!(from_timestamp(&timestamp(at)), Some(at));
        assert_eq!(time("t", None).ok(), Some(None));
        let bad = Timestamp { seconds: 0, nanos: -1 };
        assert_eq!(time("start_time", Some(&bad)).err().map(|v| v.field), Some("start_time".into()));
        let bad = Timestamp { seconds: i64::MAX, nanos: 0 };
        assert!(time("t", Some(&bad)).is_err());
    }
}
