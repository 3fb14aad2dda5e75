//! The progress summary: minutes per skill area and per ISO week in the
//! range, streaks over all history, daily score averages, days in the
//! user's zone (`tz`). The service builds it from the store's per-day
//! aggregates ([`from_aggregates`]); [`summarize`] folds raw events and is
//! the reference the tests compare it with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::calendar::{iso_week_label, local_date, slope_per_week, streaks, week_start, weeks_between};
use super::practice::RECOMMENDED_AREAS;

/// One logged stretch of practice (a practice or progress record).
#[derive(Debug, Clone)]
pub struct Event {
    /// When.
    pub at: DateTime<Utc>,
    /// Minutes.
    pub minutes: i64,
    /// The skill area, when known.
    pub area: Option<String>,
    /// Score or performance, 0–100.
    pub score: Option<f64>,
}

/// One ISO week's minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// "YYYY-Www".
    pub label: String,
    /// Its Monday.
    pub monday: NaiveDate,
    /// Minutes.
    pub minutes: i64,
}

/// One skill area's daily score points and slope.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    /// The area.
    pub area: String,
    /// (day, mean, samples), oldest first.
    pub points: Vec<(NaiveDate, f64, i32)>,
    /// Score points per week.
    pub slope: Option<f64>,
}

/// The computed summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// All minutes in the range.
    pub total_minutes: i64,
    /// (area, minutes): recommended areas first, then the others, each
    /// block by minutes descending (ties in listed / name order).
    pub by_area: Vec<(String, i64)>,
    /// Weeks overlapping the range, oldest first.
    pub weeks: Vec<Week>,
    /// Current streak (days).
    pub current_streak: i32,
    /// Longest streak (days).
    pub longest_streak: i32,
    /// Trends of areas with scores in the range, by area name.
    pub trends: Vec<Trend>,
}

/// One (local day, skill area) aggregate of the range, as the store's
/// grouped query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct DayArea {
    /// The user's local date.
    pub day: NaiveDate,
    /// The skill area, when known.
    pub area: Option<String>,
    /// Minutes.
    pub minutes: i64,
    /// Sum of the scores.
    pub score_sum: f64,
    /// How many scores.
    pub score_count: i32,
}

/// The summary from the store's aggregates of the range `start..end` and
/// the streaks it computed over all history (what the service answers; the
/// fold [`summarize`] is its reference, used by the tests).
pub fn from_aggregates(
    rows: &[DayArea],
    streaks: (i32, i32),
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
) -> Summary {
    let mut total = 0_i64;
    let mut areas: HashMap<String, i64> = HashMap::new();
    let mut per_week: HashMap<NaiveDate, i64> = HashMap::new();
    let mut scores: BTreeMap<String, BTreeMap<NaiveDate, (f64, i32)>> = BTreeMap::new();
    for row in rows {
        total = total.saturating_add(row.minutes);
        *per_week.entry(week_start(row.day)).or_default() += row.minutes;
        if let Some(area) = &row.area {
            *areas.entry(area.clone()).or_default() += row.minutes;
            if row.score_count > 0 {
                let cell = scores.entry(area.clone()).or_default().entry(row.day).or_insert((0.0, 0));
                cell.0 += row.score_sum;
                cell.1 += row.score_count;
            }
        }
    }
    assemble(total, areas, &per_week, scores, streaks, start, end, tz)
}

#[expect(clippy::too_many_arguments, reason = "the parts of one summary, shared by both ways of computing it")]
fn assemble(
    total: i64,
    mut areas: HashMap<String, i64>,
    per_week: &HashMap<NaiveDate, i64>,
    scores: BTreeMap<String, BTreeMap<NaiveDate, (f64, i32)>>,
    (current_streak, longest_streak): (i32, i32),
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
) -> Summary {
    let mut recommended: Vec<(String, i64)> =
        RECOMMENDED_AREAS.iter().map(|a| ((*a).to_owned(), areas.remove(*a).unwrap_or(0))).collect();
    recommended.sort_by_key(|a| std::cmp::Reverse(a.1));
    let mut others: Vec<(String, i64)> = areas.into_iter().collect();
    others.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    recommended.extend(others);
    let last_day = local_date(end - chrono::Duration::microseconds(1), tz);
    let weeks = if end > start { weeks_between(local_date(start, tz), last_day) } else { Vec::new() };
    let weeks = weeks
        .into_iter()
        .map(|monday| Week {
            label: iso_week_label(monday),
            monday,
            minutes: per_week.get(&monday).copied().unwrap_or(0),
        })
        .collect();
    let trends = scores
        .into_iter()
        .map(|(area, by_day)| {
            let points: Vec<(NaiveDate, f64, i32)> =
                by_day.into_iter().map(|(day, (sum, n))| (day, sum / f64::from(n.max(1)), n)).collect();
            let xy: Vec<(NaiveDate, f64)> = points.iter().map(|(d, mean, _)| (*d, *mean)).collect();
            Trend { area, slope: slope_per_week(&xy), points }
        })
        .collect();
    Summary { total_minutes: total, by_area: recommended, weeks, current_streak, longest_streak, trends }
}

/// The current streak from the latest run of practice days (its last day
/// and length): it counts while the run ends today or yesterday.
pub fn current_streak(latest_run: Option<(NaiveDate, i32)>, today: NaiveDate) -> i32 {
    let yesterday = today.pred_opt().unwrap_or(today);
    match latest_run {
        Some((last, length)) if last >= yesterday => length,
        _ => 0,
    }
}

/// Folds `events` (all history) for the range `start..end` at `now` in
/// `tz`: the reference the aggregate path ([`from_aggregates`]) must equal.
pub fn summarize(events: &[Event], start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> Summary {
    let mut days = BTreeSet::new();
    let mut total = 0_i64;
    let mut areas: HashMap<String, i64> = HashMap::new();
    let mut per_week: HashMap<NaiveDate, i64> = HashMap::new();
    let mut scores: BTreeMap<String, BTreeMap<NaiveDate, (f64, i32)>> = BTreeMap::new();
    for event in events {
        let day = local_date(event.at, tz);
        days.insert(day);
        if event.at < start || event.at >= end {
            continue;
        }
        total = total.saturating_add(event.minutes);
        *per_week.entry(week_start(day)).or_default() += event.minutes;
        if let Some(area) = &event.area {
            *areas.entry(area.clone()).or_default() += event.minutes;
            if let Some(score) = event.score {
                let cell = scores.entry(area.clone()).or_default().entry(day).or_insert((0.0, 0));
                cell.0 += score;
                cell.1 += 1;
            }
        }
    }
    let streaks = streaks(&days, local_date(now, tz));
    assemble(total, areas, &per_week, scores, streaks, start, end, tz)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, d, h, 0, 0).single().unwrap_or_default()
    }

    fn ev(at: DateTime<Utc>, minutes: i64, area: &str, score: Option<f64>) -> Event {
        Event { at, minutes, area: Some(area.into()), score }
    }

    #[test]
    fn empty_range_lists_every_recommended_area_with_zero() {
        let s = summarize(&[], at(1, 0), at(1, 0), at(1, 0), Tz::UTC);
        assert_eq!(s.total_minutes, 0);
        assert_eq!(s.by_area.len(), RECOMMENDED_AREAS.len());
        assert!(s.weeks.is_empty());
        assert_eq!((s.current_streak, s.longest_streak), (0, 0));
    }

    #[test]
    fn totals_weeks_and_trends() {
        let events = [
            ev(at(3, 10), 30, "scales", Some(50.0)),
            ev(at(3, 12), 10, "scales", Some(70.0)),
            ev(at(10, 10), 20, "voice_leading", Some(80.0)),
            ev(at(12, 10), 15, "scales", Some(80.0)),
            ev(at(20, 10), 99, "scales", None), // outside the range
        ];
        let s = summarize(&events, at(1, 0), at(15, 0), at(20, 12), Tz::UTC);
        assert_eq!(s.total_minutes, 75);
        assert_eq!(s.by_area.first(), Some(&("scales".to_owned(), 55)));
        assert_eq!(s.by_area.last(), Some(&("voice_leading".to_owned(), 20)));
        let weeks: Vec<i64> = s.weeks.iter().map(|w| w.minutes).collect();
        assert_eq!(weeks, [0, 40, 35]); // weeks of Feb 24, Mar 3, Mar 10
        assert_eq!(s.weeks.iter().map(|w| w.minutes).sum::<i64>(), s.total_minutes);
        let scales = s.trends.iter().find(|t| t.area == "scales").map(|t| t.points.clone()).unwrap_or_default();
        assert_eq!(scales.first().map(|p| (p.1, p.2)), Some((60.0, 2)));
        assert_eq!((s.current_streak, s.longest_streak), (1, 1));
        assert!(s.trends.iter().all(|t| t.points.len() < 2 || t.slope.is_some()));
        // The aggregate path gives the same summary from per-day rows.
        let mut rows: Vec<DayArea> = Vec::new();
        for e in events.iter().filter(|e| e.at >= at(1, 0) && e.at < at(15, 0)) {
            let day = local_date(e.at, Tz::UTC);
            match rows.iter_mut().find(|r| r.day == day && r.area == e.area) {
                Some(r) => {
                    r.minutes += e.minutes;
                    r.score_sum += e.score.unwrap_or(0.0);
                    r.score_count += i32::from(e.score.is_some());
                }
                None => rows.push(DayArea {
                    day,
                    area: e.area.clone(),
                    minutes: e.minutes,
                    score_sum: e.score.unwrap_or(0.0),
                    score_count: i32::from(e.score.is_some()),
                }),
            }
        }
        assert_eq!(from_aggregates(&rows, (1, 1), at(1, 0), at(15, 0), Tz::UTC), s);
        let day = |d: u32| NaiveDate::from_ymd_opt(2025, 3, d).unwrap_or_default();
        assert_eq!(current_streak(Some((day(19), 4)), day(20)), 4);
        assert_eq!(current_streak(Some((day(18), 4)), day(20)), 0);
        assert_eq!(current_streak(None, day(20)), 0);
    }
}
