//! Billing periods by date arithmetic at read time: no job rolls periods
//! over, so nothing races at midnight. A period is `[start, end)`; periods of
//! an anchor are the anchor plus whole multiples of the interval in calendar
//! months, clamped to the end of short months (Jan 31 → Feb 28/29 → Mar 31:
//! each boundary is computed from the anchor, so the clamp never drifts).
//!
//! FREE uses the calendar month in UTC (`resources.proto`), which is the
//! same rule with the anchor at 1970-01-01T00:00Z.

use chrono::{DateTime, Datelike as _, Months, TimeZone as _, Utc};

/// One billing period, `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First instant of the period.
    pub start: DateTime<Utc>,
    /// First instant after the period.
    pub end: DateTime<Utc>,
}

impl Period {
    /// Whether `at` falls in the period.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// `anchor` moved by `months` calendar months (negative: back), clamped to
/// the last day of a shorter month; `None` beyond chrono's range.
pub fn add_months(anchor: DateTime<Utc>, months: i64) -> Option<DateTime<Utc>> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 { anchor.checked_add_months(count) } else { anchor.checked_sub_months(count) }
}

/// The period of `anchor` with `interval_months` that contains `now`
/// (also when `now` is before the anchor). `None` for a zero interval or
/// dates beyond chrono's range.
pub fn period_containing(anchor: DateTime<Utc>, interval_months: u32, now: DateTime<Utc>) -> Option<Period> {
    if interval_months == 0 {
        return None;
    }
    let step = i64::from(interval_months);
    let elapsed =
        (i64::from(now.year()) - i64::from(anchor.year())) * 12 + i64::from(now.month()) - i64::from(anchor.month());
    let mut k = elapsed.div_euclid(step);
    // The estimate is off by at most one period (time of day, clamping).
    for _ in 0..4 {
        let start = add_months(anchor, k * step)?;
        if start > now {
            k -= 1;
            continue;
        }
        let end = add_months(anchor, (k + 1) * step)?;
        if end <= now {
            k += 1;
            continue;
        }
        return Some(Period { start, end });
    }
    None
}

/// The calendar month in UTC that contains `now` (FREE's period).
pub fn calendar_month(now: DateTime<Utc>) -> Option<Period> {
    let epoch = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).single()?;
    period_containing(epoch, 1, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    fn period(anchor: &str, months: u32, now: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        period_containing(at(anchor), months, at(now)).map(|p| (p.start, p.end))
    }

    #[test]
    fn calendar_months_start_on_the_first_at_midnight_utc() {
        let p = calendar_month(at("2025-02-14T12:00:00Z"));
        assert_eq!(p.map(|p| (p.start, p.end)), Some((at("2025-02-01T00:00:00Z"), at("2025-03-01T00:00:00Z"))));
        let december = calendar_month(at("2024-12-31T23:59:59.999Z")).map(|p| p.end);
        assert_eq!(december, Some(at("2025-01-01T00:00:00Z")));
        let boundary = calendar_month(at("2025-01-01T00:00:00Z")).map(|p| p.start);
        assert_eq!(boundary, Some(at("2025-01-01T00:00:00Z")));
    }

    #[test]
    fn the_end_of_a_long_month_clamps_without_drifting() {
        let anchor = "2025-01-31T10:00:00Z";
        assert_eq!(period(anchor, 1, "2025-02-10T00:00:00Z"), Some((at(anchor), at("2025-02-28T10:00:00Z"))));
        assert_eq!(
            period(anchor, 1, "2025-03-01T00:00:00Z"),
            Some((at("2025-02-28T10:00:00Z"), at("2025-03-31T10:00:00Z")))
        );
        assert_eq!(
            period(anchor, 1, "2025-04-30T10:00:00Z"),
            Some((at("2025-04-30T10:00:00Z"), at("2025-05-31T10:00:00Z")))
        );
        assert_eq!(
            period(anchor, 1, "2028-02-29T11:00:00Z"),
            Some((at("2028-02-29T10:00:00Z"), at("2028-03-31T10:00:00Z")))
        );
    }

    #[test]
    fn time_of_day_decides_on_the_anchor_day() {
        let anchor = "2025-01-15T18:30:00Z";
        assert_eq!(
            period(anchor, 1, "2025-03-15T18:29:59Z"),
            Some((at("2025-02-15T18:30:00Z"), at("2025-03-15T18:30:00Z")))
        );
        assert_eq!(
            period(anchor, 1, "2025-03-15T18:30:00Z"),
            Some((at("2025-03-15T18:30:00Z"), at("2025-04-15T18:30:00Z")))
        );
    }

    #[test]
    fn yearly_periods_and_times_before_the_anchor() {
        assert_eq!(
            period("2024-02-29T00:00:00Z", 12, "2026-06-01T00:00:00Z"),
            Some((at("2026-02-28T00:00:00Z"), at("2027-02-28T00:00:00Z")))
        );
        assert_eq!(
            period("2025-05-10T00:00:00Z", 1, "2025-03-20T00:00:00Z"),
            Some((at("2025-03-10T00:00:00Z"), at("2025-04-10T00:00:00Z")))
        );
        assert_eq!(period("2025-05-10T00:00:00Z", 0, "2025-03-20T00:00:00Z"), None);
    }

    #[test]
    fn every_instant_falls_in_exactly_the_period_found() {
        let anchor = at("2023-08-31T23:00:00Z");
        let mut now = at("2023-01-01T00:00:00Z");
        while now < at("2026-01-01T00:00:00Z") {
            let p = period_containing(anchor, 1, now);
            assert!(p.is_some_and(|p| p.contains(now)), "{now}");
            now += chrono::Duration::hours(37);
        }
    }
}
