//! The daily figures each owner reports to progress's metrics job
//! (`GetDailyFigures` on identity, billing and content; progress counts its
//! own): the one UTC day they are about, and the figure message.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use jazz_contract::jazz::common::v1::DailyFigure;

use crate::error::FieldViolation;

/// One UTC day, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDay {
    /// The calendar date.
    pub date: NaiveDate,
    /// Its midnight UTC (where the job stores the day's points).
    pub start: DateTime<Utc>,
    /// The next midnight UTC.
    pub end: DateTime<Utc>,
}

impl UtcDay {
    /// The day of `date`.
    pub fn of(date: NaiveDate) -> Self {
        let start = date.and_time(chrono::NaiveTime::MIN).and_utc();
        Self { date, start, end: start + chrono::Duration::days(1) }
    }

    /// The day before today (UTC): what the daily run records.
    pub fn yesterday() -> Self {
        Self::of(Utc::now().date_naive() - chrono::Duration::days(1))
    }

    /// `text` as `YYYY-MM-DD`, refused with the field named otherwise.
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldViolation> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .map(Self::of)
            .ok_or_else(|| FieldViolation::new(field, "must be a date as YYYY-MM-DD"))
    }

    /// `YYYY-MM-DD`.
    pub fn to_api(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }
}

/// A figure named `name` with `value`, split by `dimensions` (none: the
/// total).
pub fn figure(name: &str, value: f64, dimensions: &[(&str, &str)]) -> DailyFigure {
    let dimensions: HashMap<String, String> =
        dimensions.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
    DailyFigure { name: name.to_owned(), value, dimensions }
}

/// A count as a figure value (counts stay far below 2^53).
#[expect(clippy::cast_precision_loss, reason = "daily counts are far below 2^53")]
pub fn count(value: i64) -> f64 {
    value as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_strictly_and_span_midnight_to_midnight() {
        let day = UtcDay::parse("date", "2026-03-29");
        assert!(matches!(day, Ok(d) if d.to_api() == "2026-03-29" && (d.end - d.start) == chrono::Duration::hours(24)));
        for bad in ["", "2026-3-29", "2026-02-30", "29.03.2026", "2026-03-29T00:00:00Z", "+2026-03-29"] {
            assert!(UtcDay::parse("date", bad).is_err(), "{bad:?}");
        }
    }
}
