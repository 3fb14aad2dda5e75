//! Field rules of the contract (at or below the database's CHECK bounds),
//! each answering the request field's name when broken.

use chrono::{DateTime, Duration, Utc};
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_platform::error::FieldViolation;

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest notes.
pub const MAX_NOTES: usize = 2000;
/// Most goals or achievements.
pub const MAX_ITEMS: usize = 20;
/// Longest goal or achievement.
pub const MAX_ITEM: usize = 200;
/// How far back a client-supplied time may lie.
pub const MAX_PAST_DAYS: i64 = 7;
/// How far ahead a client-supplied time may lie.
pub const MAX_FUTURE_MINUTES: i64 = 5;

use jazz_platform::fields::plain_text as plain;

/// An optional title: trimmed, at most 200 characters; empty → `None`.
pub fn title(text: &str) -> Result<Option<String>, FieldViolation> {
    let text = text.trim();
    plain("title", text, MAX_TITLE)?;
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Notes: at most 2000 characters; blank → `None`.
pub fn notes(text: &str) -> Result<Option<String>, FieldViolation> {
    plain("notes", text, MAX_NOTES)?;
    Ok((!text.trim().is_empty()).then(|| text.to_owned()))
}

/// Goals or achievements: at most 20, each trimmed to 1–200 characters.
pub fn items(field: &str, items: &[String]) -> Result<Vec<String>, FieldViolation> {
    if items.len() > MAX_ITEMS {
        return Err(FieldViolation::new(field, format!("must hold at most {MAX_ITEMS} entries")));
    }
    items
        .iter()
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(FieldViolation::new(field, "entries must not be empty"));
            }
            plain(field, item, MAX_ITEM)?;
            Ok(item.to_owned())
        })
        .collect()
}

/// An integer within `min..=max`.
pub fn int_range(field: &str, value: i32, min: i32, max: i32) -> Result<i32, FieldViolation> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(FieldViolation::new(field, format!("must be {min}–{max}")))
    }
}

/// An optional percentage: finite and within 0–100.
pub fn percent(field: &str, value: Option<f64>) -> Result<Option<f64>, FieldViolation> {
    match value {
        Some(v) if !v.is_finite() => Err(FieldViolation::new(field, "must be a finite number")),
        Some(v) if !(0.0..=100.0).contains(&v) => Err(FieldViolation::new(field, "must be 0–100")),
        other => Ok(other),
    }
}

/// A difficulty as stored; `None` for UNSPECIFIED. Unknown values refused.
pub fn difficulty(field: &str, value: i32) -> Result<Option<&'static str>, FieldViolation> {
    match Difficulty::try_from(value) {
        Ok(Difficulty::Unspecified) => Ok(None),
        Ok(Difficulty::Beginner) => Ok(Some("BEGINNER")),
        Ok(Difficulty::Intermediate) => Ok(Some("INTERMEDIATE")),
        Ok(Difficulty::Advanced) => Ok(Some("ADVANCED")),
        Ok(Difficulty::Expert) => Ok(Some("EXPERT")),
        Err(_) => Err(FieldViolation::new(field, "is not a known difficulty")),
    }
}

/// The API difficulty of a stored one.
pub fn difficulty_to_api(stored: &str) -> Difficulty {
    match stored {
        "BEGINNER" => Difficulty::Beginner,
        "INTERMEDIATE" => Difficulty::Intermediate,
        "ADVANCED" => Difficulty::Advanced,
        "EXPERT" => Difficulty::Expert,
        _ => Difficulty::Unspecified,
    }
}

/// A skill area: 1–50 characters of `[a-z0-9_]`.
pub fn skill_area(field: &str, text: &str) -> Result<String, FieldViolation> {
    let ok = !text.is_empty()
        && text.len() <= 50
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(FieldViolation::new(field, "must be 1–50 characters of a-z, 0-9 and _"))
    }
}

pub use jazz_platform::fields::timestamp;

/// A time the client supplies for an event: up to 7 days back, at most 5
/// minutes ahead of `now`; unset → `now`.
pub fn event_time(
    field: &str,
    value: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldViolation> {
    let Some(at) = jazz_platform::fields::time(field, value)? else { return Ok(now) };
    if at < now - Duration::days(MAX_PAST_DAYS) {
        return Err(FieldViolation::new(field, "must not lie more than 7 days in the past"));
    }
    if at > now + Duration::minutes(MAX_FUTURE_MINUTES) {
        return Err(FieldViolation::new(field, "must not lie more than 5 minutes in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_refuse_nan_infinity_and_out_of_range() {
        assert!(percent("performance", Some(f64::NAN)).is_err());
        assert!(percent("performance", Some(f64::INFINITY)).is_err());
        assert!(percent("performance", Some(100.5)).is_err());
        assert!(percent("performance", Some(-0.1)).is_err());
        assert_eq!(percent("performance", Some(100.0)).ok(), Some(Some(100.0)));
        assert_eq!(percent("performance", None).ok(), Some(None));
    }

    #[test]
    fn text_rules() {
        assert_eq!(title("  ").ok(), Some(None));
        assert!(title(&"x".repeat(201)).is_err());
        assert!(notes("a\0b").is_err());
        assert!(items("goals", &["".into()]).is_err());
        assert!(items("goals", &vec!["g".to_owned(); 21]).is_err());
        assert!(skill_area("skill_area", "Scales").is_err());
        assert!(skill_area("skill_area", "ear_training").is_ok());
        assert!(difficulty("difficulty", 99).is_err());
    }

    #[test]
    fn event_times_are_bounded() {
        let now = Utc::now();
        let ts = |at: DateTime<Utc>| timestamp(at);
        assert!(event_time("started_at", Some(&ts(now - Duration::days(8))), now).is_err());
        assert!(event_time("started_at", Some(&ts(now + Duration::minutes(6))), now).is_err());
        assert!(event_time("started_at", Some(&ts(now - Duration::days(6))), now).is_ok());
        assert_eq!(event_time("started_at", None, now).ok(), Some(now));
        let bad = prost_types::Timestamp { seconds: 0, nanos: -1 };
        assert!(event_time("started_at", Some(&bad), now).is_err());
    }
}
