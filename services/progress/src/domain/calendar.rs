//! Days, ISO weeks and streaks in the user's own time zone. Pure: the
//! callers pass in instants, the zone and "now".

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike as _, Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// The user's zone by IANA name; UTC for an unknown or empty name.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// The calendar date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The Monday starting the ISO week of `date`.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    let back = u64::from(date.weekday().num_days_from_monday());
    date.checked_sub_days(Days::new(back)).unwrap_or(date)
}

/// The ISO week label of `date`, e.g. "2025-W03" (the ISO year, which
/// differs from the calendar year around New Year).
pub fn iso_week_label(date: NaiveDate) -> String {
    let week = date.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// The Mondays of every ISO week overlapping `first..=last`, oldest first;
/// empty when `last` is before `first`.
pub fn weeks_between(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut weeks = Vec::new();
    let mut monday = week_start(first);
    while monday <= last {
        weeks.push(monday);
        match monday.checked_add_days(Days::new(7)) {
            Some(next) => monday = next,
            None => break,
        }
    }
    weeks
}

/// (current, longest) runs of consecutive days in `days`. The current run
/// ends `today`, or yesterday when nothing is logged today yet; 0 otherwise.
pub fn streaks(days: &BTreeSet<NaiveDate>, today: NaiveDate) -> (i32, i32) {
    let mut longest = 0_i32;
    let mut run = 0_i32;
    let mut previous: Option<NaiveDate> = None;
    for &day in days {
        run = match previous.and_then(|p| p.succ_opt()) {
            Some(next) if next == day => run.saturating_add(1),
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(day);
    }
    let yesterday = today.pred_opt().unwrap_or(today);
    let mut cursor = if days.contains(&today) { Some(today) } else { Some(yesterday) };
    let mut current = 0_i32;
    while let Some(day) = cursor.filter(|d| days.contains(d)) {
        current = current.saturating_add(1);
        cursor = day.pred_opt();
    }
    (current, longest)
}

/// Least-squares slope of `(day, value)` points in value per week; `None`
/// with fewer than two distinct days.
pub fn slope_per_week(points: &[(NaiveDate, f64)]) -> Option<f64> {
    let first = points.first()?.0;
    let xs: Vec<f64> = points.iter().map(|(d, _)| (*d - first).num_days() as f64).collect();
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    if points.len() < 2 || sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(points).map(|(x, (_, y))| (x - mean_x) * (y - mean_y)).sum();
    Some(sxy / sxx * 7.0)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn streaks_count_runs_and_allow_an_unlogged_today() {
        let days: BTreeSet<NaiveDate> =
            [d(2025, 3, 1), d(2025, 3, 2), d(2025, 3, 3), d(2025, 3, 5), d(2025, 3, 6)].into();
        assert_eq!(streaks(&days, d(2025, 3, 6)), (2, 3));
        assert_eq!(streaks(&days, d(2025, 3, 7)), (2, 3)); // nothing today yet
        assert_eq!(streaks(&days, d(2025, 3, 8)), (0, 3));
        assert_eq!(streaks(&BTreeSet::new(), d(2025, 3, 8)), (0, 0));
    }

    #[test]
    fn midnight_is_the_users_midnight() {
        let tokyo = zone("Asia/Tokyo");
        // 14:30 and 15:30 UTC: one UTC day, two Tokyo days (23:30, 00:30).
        let a = Utc.with_ymd_and_hms(2025, 3, 1, 14, 30, 0).single().unwrap_or_default();
        let b = Utc.with_ymd_and_hms(2025, 3, 1, 15, 30, 0).single().unwrap_or_default();
        let in_tokyo: BTreeSet<_> = [local_date(a, tokyo), local_date(b, tokyo)].into();
        let in_utc: BTreeSet<_> = [local_date(a, Tz::UTC), local_date(b, Tz::UTC)].into();
        assert_eq!(streaks(&in_tokyo, d(2025, 3, 2)).1, 2);
        assert_eq!(streaks(&in_utc, d(2025, 3, 1)).1, 1);
        // Exactly midnight belongs to the new day.
        let midnight = Utc.with_ymd_and_hms(2025, 3, 1, 15, 0, 0).single().unwrap_or_default();
        assert_eq!(local_date(midnight, tokyo), d(2025, 3, 2));
    }

    #[test]
    fn dst_changes_do_not_break_days() {
        let ny = zone("America/New_York");
        // 2025-03-09: clocks jump 02:00 → 03:00 (a 23-hour day).
        let before = Utc.with_ymd_and_hms(2025, 3, 9, 4, 59, 0).single().unwrap_or_default(); // 23:59 EST on the 8th
        let after = Utc.with_ymd_and_hms(2025, 3, 10, 3, 59, 0).single().unwrap_or_default(); // 23:59 EDT on the 9th
        assert_eq!(local_date(before, ny), d(2025, 3, 8));
        assert_eq!(local_date(after, ny), d(2025, 3, 9));
        let days: BTreeSet<_> = [local_date(before, ny), local_date(after, ny)].into();
        assert_eq!(streaks(&days, d(2025, 3, 9)), (2, 2));
        // 2025-11-02: 01:00–02:00 happens twice (a 25-hour day), still one day.
        let first = Utc.with_ymd_and_hms(2025, 11, 2, 5, 30, 0).single().unwrap_or_default();
        let second = Utc.with_ymd_and_hms(2025, 11, 2, 6, 30, 0).single().unwrap_or_default();
        assert_eq!(local_date(first, ny), local_date(second, ny));
    }

    #[test]
    fn iso_weeks_cover_the_range_and_use_the_iso_year() {
        assert_eq!(iso_week_label(d(2024, 12, 30)), "2025-W01");
        assert_eq!(iso_week_label(d(2021, 1, 3)), "2020-W53");
        assert_eq!(week_start(d(2025, 1, 15)), d(2025, 1, 13));
        assert_eq!(weeks_between(d(2025, 1, 15), d(2025, 1, 27)), vec![d(2025, 1, 13), d(2025, 1, 20), d(2025, 1, 27)]);
        assert!(weeks_between(d(2025, 1, 15), d(2025, 1, 1)).is_empty());
        assert_eq!(zone("Not/AZone"), Tz::UTC);
    }

    #[test]
    fn slopes_are_per_week() {
        assert_eq!(slope_per_week(&[]), None);
        assert_eq!(slope_per_week(&[(d(2025, 1, 1), 50.0)]), None);
        let slope = slope_per_week(&[(d(2025, 1, 1), 50.0), (d(2025, 1, 8), 60.0)]).unwrap_or_default();
        assert!((slope - 10.0).abs() < 1e-9);
    }
}
