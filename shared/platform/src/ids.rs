//! ULID identifiers: made in the application, stored as Postgres `uuid`,
//! shown in the API as the 26-character Crockford string.

use ulid::Ulid;
use uuid::Uuid;

use crate::error::FieldViolation;

/// A new time-ordered id, ready to store in a `uuid` column.
pub fn new_id() -> Uuid {
    Uuid::from(Ulid::generate())
}

/// The API form of a stored id: its 26-character ULID string.
pub fn to_api(id: Uuid) -> String {
    Ulid::from(id).to_string()
}

/// Parses an id sent by a client; `field` names the request field in the
/// error. Empty, wrong-length and non-Crockford strings are refused.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, FieldViolation> {
    if value.is_empty() {
        return Err(FieldViolation::new(field, "is required"));
    }
    // The largest ULID starts with '7'; the parser would wrap larger ones.
    let in_range = value.as_bytes().first().is_some_and(|first| (b'0'..=b'7').contains(first));
    Ulid::from_string(value)
        .ok()
        .filter(|_| in_range)
        .map(Uuid::from)
        .ok_or_else(|| FieldViolation::new(field, "must be a 26-character ULID"))
}

/// Like [`parse_id`], but an empty string means "not given".
pub fn parse_optional_id(field: &str, value: &str) -> Result<Option<Uuid>, FieldViolation> {
    if value.is_empty() { Ok(None) } else { parse_id(field, value).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_api_form() {
        let id = new_id();
        let text = to_api(id);
        assert_eq!(text.len(), 26);
        assert_eq!(parse_id("id", &text).ok(), Some(id));
    }

    #[test]
    fn bad_ids_name_the_field() {
        for bad in ["", "x", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "01arz3ndektsv4rrffq69g5fa\0"]
        {
            let err = parse_id("content_id", bad).err();
            assert_eq!(err.map(|e| e.field), Some("content_id".to_owned()), "input {bad:?}");
        }
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id();
        assert!(first < second);
    }
}
