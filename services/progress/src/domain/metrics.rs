//! The metrics job's rules: which owner figures become points, and
//! progress's own figures of a day.

use jazz_contract::jazz::common::v1::DailyFigure;
use jazz_platform::daily::{count, figure};

/// One point to store at a day's midnight UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPoint {
    /// The metric, lower_snake_case, 1–100 characters.
    pub name: String,
    /// Its value (finite).
    pub value: f64,
    /// `None` for the total; else the dimensions as a JSON object.
    pub dimensions: Option<serde_json::Value>,
}

/// What learners practised in one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PracticeDay {
    /// Minutes practised.
    pub minutes: i64,
    /// Practice records.
    pub records: i64,
    /// Distinct learners who practised.
    pub learners: i64,
}

/// The name progress's own figure is checked by (see
/// [`practice_figures`]): a day with it has been recorded.
pub const PRACTICE_MINUTES: &str = "practice_minutes";

/// Progress's own figures of a day: "practice_minutes",
/// "practice_records" and "practicing_learners".
pub fn practice_figures(day: PracticeDay) -> Vec<DailyFigure> {
    vec![
        figure(PRACTICE_MINUTES, count(day.minutes), &[]),
        figure("practice_records", count(day.records), &[]),
        figure("practicing_learners", count(day.learners), &[]),
    ]
}

fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The figures as points; a figure with a malformed name, a non-finite
/// value or a repeated (name, dimensions) is an owner's bug and is left out
/// (returned second, for the log).
pub fn points(figures: Vec<DailyFigure>) -> (Vec<NewPoint>, Vec<DailyFigure>) {
    let mut seen = std::collections::HashSet::new();
    let mut points = Vec::with_capacity(figures.len());
    let mut refused = Vec::new();
    for figure in figures {
        let mut dimensions: Vec<(&String, &String)> = figure.dimensions.iter().collect();
        dimensions.sort();
        let key = (figure.name.clone(), format!("{dimensions:?}"));
        if !valid_name(&figure.name) || !figure.value.is_finite() || !seen.insert(key) {
            refused.push(figure);
            continue;
        }
        let dimensions = (!dimensions.is_empty()).then(|| {
            serde_json::Value::Object(
                dimensions.into_iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
            )
        });
        points.push(NewPoint { name: figure.name, value: figure.value, dimensions });
    }
    (points, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_become_points_and_owner_bugs_are_left_out() {
        let figures = vec![
            figure("ai_generations", 7.0, &[]),
            figure("ai_generations", 3.0, &[("type", "JAZZ_LICK")]),
            figure("ai_generations", 4.0, &[("type", "JAZZ_LICK")]),
            figure("Bad-Name", 1.0, &[]),
            figure("nan", f64::NAN, &[]),
        ];
        let (points, refused) = points(figures);
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].dimensions, Some(serde_json::json!({"type": "JAZZ_LICK"})));
        assert_eq!(points[0].dimensions, None);
        assert_eq!(refused.len(), 3);
    }

    #[test]
    fn practice_figures_are_always_reported() {
        let names: Vec<String> = practice_figures(PracticeDay::default()).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["practice_minutes", "practice_records", "practicing_learners"]);
    }
}
