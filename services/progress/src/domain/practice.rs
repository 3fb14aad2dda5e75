//! Rules of practice sessions: their length, the skill area a practice
//! record counts toward, and the SM-2 review schedule it feeds.

use chrono::{DateTime, Utc};
use jazz_contract::jazz::common::v1::ContentType;

/// The recommended skill areas (`resources.proto`), listed first by the
/// summary even when unpractised.
pub const RECOMMENDED_AREAS: [&str; 8] =
    ["improvisation", "chord_voicings", "scales", "harmony", "repertoire", "ear_training", "rhythm", "sight_reading"];

/// A session's length in whole minutes (`PracticeSession.duration_minutes`):
/// while open, the sum of its records; once ended, the minutes from start to
/// end (rounded down), but never less than the records' sum.
pub fn duration_minutes(started: DateTime<Utc>, ended: Option<DateTime<Utc>>, records_sum: i64) -> i32 {
    let wall = ended.map_or(0, |end| (end - started).num_minutes().max(0));
    i32::try_from(wall.max(records_sum).max(0)).unwrap_or(i32::MAX)
}

/// The skill area a practice record of an item of `kind` counts toward.
pub fn skill_area_of(kind: ContentType) -> Option<&'static str> {
    match kind {
        ContentType::JazzLick | ContentType::Melody => Some("improvisation"),
        ContentType::ChordProgression => Some("chord_voicings"),
        ContentType::ScalePattern => Some("scales"),
        ContentType::HarmonyExercise => Some("harmony"),
        ContentType::CompletePiece => Some("repertoire"),
        ContentType::Unspecified => None,
    }
}

/// One item's spaced-repetition state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Ease factor, ≥ 1.3.
    pub ease: f64,
    /// Days to the next review.
    pub interval_days: i32,
    /// Successful reviews in a row.
    pub repetitions: i32,
}

impl Default for Schedule {
    fn default() -> Self {
        Self { ease: 2.5, interval_days: 0, repetitions: 0 }
    }
}

/// Longest interval kept (the table's bound).
const MAX_INTERVAL: i32 = 36_500;

/// SM-2 (`ReviewItem`): q = p / 20; p ≥ 60 → intervals 1, 6, then
/// round(interval × ease); p < 60 → back to 1 day; ease moves by
/// 0.1 − (5 − q)(0.08 + (5 − q)·0.02), never below 1.3 (nor above 10).
pub fn review(previous: Schedule, performance: f64) -> Schedule {
    let q = (performance / 20.0).clamp(0.0, 5.0);
    let ease = (previous.ease + 0.1 - (5.0 - q) * (0.08 + (5.0 - q) * 0.02)).clamp(1.3, 10.0);
    if performance < 60.0 {
        return Schedule { ease, interval_days: 1, repetitions: 0 };
    }
    let interval_days = match previous.repetitions {
        0 => 1,
        1 => 6,
        _ => {
            let next = (f64::from(previous.interval_days.max(1)) * ease).round();
            if next >= f64::from(MAX_INTERVAL) { MAX_INTERVAL } else { next as i32 }
        }
    };
    Schedule { ease, interval_days: interval_days.clamp(1, MAX_INTERVAL), repetitions: previous.repetitions + 1 }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn duration_is_wall_time_once_ended_but_never_below_the_records() {
        let start = Utc::now();
        assert_eq!(duration_minutes(start, None, 25), 25);
        assert_eq!(duration_minutes(start, Some(start + Duration::seconds(30 * 60 + 59)), 10), 30);
        assert_eq!(duration_minutes(start, Some(start + Duration::minutes(5)), 40), 40);
        assert_eq!(duration_minutes(start, Some(start), 0), 0);
    }

    #[test]
    fn sm2_grows_good_items_and_restarts_poor_ones() {
        let first = review(Schedule::default(), 100.0);
        assert_eq!((first.interval_days, first.repetitions), (1, 1));
        assert!((first.ease - 2.6).abs() < 1e-9);
        let second = review(first, 100.0);
        assert_eq!(second.interval_days, 6);
        let third = review(second, 100.0);
        assert_eq!(third.interval_days, (6.0 * third.ease).round() as i32);
        let poor = review(third, 20.0);
        assert_eq!((poor.interval_days, poor.repetitions), (1, 0));
        let mut floor = Schedule::default();
        for _ in 0..20 {
            floor = review(floor, 0.0);
        }
        assert!((floor.ease - 1.3).abs() < 1e-9);
    }

    #[test]
    fn every_content_type_has_an_area() {
        assert_eq!(skill_area_of(ContentType::Melody), Some("improvisation"));
        assert_eq!(skill_area_of(ContentType::Unspecified), None);
    }
}
