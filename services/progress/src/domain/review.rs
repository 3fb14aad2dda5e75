//! The review queue's calendar: when an item falls due (the practice's
//! local date plus its SM-2 interval, see `practice::review`), what
//! "today" and the look-ahead horizon are in the learner's zone, and the
//! queue's order. Pure; the store reads `review_items` in this order.
//!
//! One card is one (learner, content item). Content items carry exactly
//! one key (`generated_content.key`); the twelve-key drill is
//! TransposeContent's twelve items, so each key is its own card with its
//! own schedule.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::calendar::local_date;

/// Longest look-ahead (`GetReviewQueueRequest.days_ahead`).
pub const MAX_DAYS_AHEAD: i32 = 30;

/// The date a review falls due: the local date of the practice in `tz`,
/// plus `interval_days` calendar days (so a DST change never moves it).
pub fn due_date(practiced_at: DateTime<Utc>, tz: Tz, interval_days: i32) -> NaiveDate {
    let day = local_date(practiced_at, tz);
    let interval = u64::try_from(interval_days.max(0)).unwrap_or(0);
    day.checked_add_days(Days::new(interval)).unwrap_or(day)
}

/// The last due date the queue lists: `today` plus `days_ahead`.
pub fn horizon(today: NaiveDate, days_ahead: i32) -> NaiveDate {
    let ahead = u64::try_from(days_ahead.clamp(0, MAX_DAYS_AHEAD)).unwrap_or(0);
    today.checked_add_days(Days::new(ahead)).unwrap_or(today)
}

/// Days overdue (negative: due in that many days).
pub fn overdue_days(today: NaiveDate, due: NaiveDate) -> i32 {
    i32::try_from((today - due).num_days()).unwrap_or(0)
}

/// The secondary sort key: lowest last performance first, unassessed last.
pub fn performance_rank(last_performance: Option<f64>) -> f64 {
    last_performance.unwrap_or(101.0)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::domain::practice::{Schedule, review};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn due_dates_count_local_days_across_a_dst_change() {
        let ny: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        // 23:30 on Saturday 2025-03-08 in New York (EST, UTC−5) is 04:30 UTC
        // on Sunday; clocks spring forward that night.
        let late_saturday = Utc.with_ymd_and_hms(2025, 3, 9, 4, 30, 0).single().unwrap_or_default();
        assert_eq!(due_date(late_saturday, ny, 1), date(2025, 3, 9));
        assert_eq!(due_date(late_saturday, Tz::UTC, 1), date(2025, 3, 10));
        // 23:30 on Sunday 2025-03-09 (now EDT, UTC−4) is 03:30 UTC Monday.
        let late_sunday = Utc.with_ymd_and_hms(2025, 3, 10, 3, 30, 0).single().unwrap_or_default();
        assert_eq!(due_date(late_sunday, ny, 6), date(2025, 3, 15));
        // Autumn: 00:30 on 2025-11-02 EDT, the night clocks fall back.
        let after_midnight = Utc.with_ymd_and_hms(2025, 11, 2, 4, 30, 0).single().unwrap_or_default();
        assert_eq!(due_date(after_midnight, ny, 1), date(2025, 11, 3));
    }

    #[test]
    fn well_played_items_come_back_later_and_poor_ones_sooner() {
        let start = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().unwrap_or_default();
        let (mut good, mut poor) = (Schedule::default(), Schedule::default());
        let mut intervals = (Vec::new(), Vec::new());
        for _ in 0..4 {
            good = review(good, 95.0);
            poor = review(poor, 35.0);
            intervals.0.push(good.interval_days);
            intervals.1.push(poor.interval_days);
        }
        assert!(intervals.0.windows(2).all(|w| w[1] > w[0]), "{:?}", intervals.0);
        assert_eq!(intervals.1, [1, 1, 1, 1]);
        assert!(due_date(start, Tz::UTC, good.interval_days) > due_date(start, Tz::UTC, poor.interval_days));
        // A lapse after a run of good reviews starts over at one day.
        assert_eq!(review(good, 40.0).interval_days, 1);
    }

    #[test]
    fn horizon_and_overdue() {
        let today = date(2025, 1, 31);
        assert_eq!(horizon(today, 0), today);
        assert_eq!(horizon(today, 1), date(2025, 2, 1));
        assert_eq!(horizon(today, 99), date(2025, 3, 2));
        assert_eq!(overdue_days(today, date(2025, 1, 28)), 3);
        assert_eq!(overdue_days(today, date(2025, 2, 2)), -2);
        assert!(performance_rank(Some(20.0)) < performance_rank(None));
    }
}
