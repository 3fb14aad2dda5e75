//! What to practise next: pure rules over the learner's per-area history,
//! the mastery matrix's practised cells, the review state (items whose
//! last performance lapsed) and the profile's skill level. Each suggestion
//! names a content type, key, mode and difficulty ready for
//! GenerateContent, with a one-line reason. Thresholds and order are
//! written down in docs/decisions.md.

use chrono::{DateTime, Utc};
use jazz_contract::jazz::common::v1::{ContentType, SkillLevel};

use super::mastery::{CellFacts, Mode, conventional};
use super::practice::RECOMMENDED_AREAS;

/// Scores looked at per area (the latest ones).
pub const RECENT: usize = 5;
/// Fewest recent scores before the difficulty may move.
const MIN_SCORES: usize = 3;
/// Mean at or above which the learner steps up.
const STEP_UP: f64 = 80.0;
/// Mean below which the learner steps back.
const STEP_BACK: f64 = 50.0;
/// An area untouched this long is stale.
const STALE_DAYS: i64 = 3;
/// A practised key with less than this share of the area's busiest key's
/// minutes is avoided.
const AVOIDED_SHARE: f64 = 0.25;
/// Keys in the order jazz players drill them: round the cycle of fourths.
const FOURTHS: [&str; 12] = ["C", "F", "Bb", "Eb", "Ab", "Db", "F#", "B", "E", "A", "D", "G"];

/// A difficulty step (the seed's `Difficulty`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// BEGINNER.
    Beginner,
    /// INTERMEDIATE.
    Intermediate,
    /// ADVANCED.
    Advanced,
    /// EXPERT.
    Expert,
}

impl Level {
    /// The stored text back (`BEGINNER` …); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "BEGINNER" => Some(Self::Beginner),
            "INTERMEDIATE" => Some(Self::Intermediate),
            "ADVANCED" => Some(Self::Advanced),
            "EXPERT" => Some(Self::Expert),
            _ => None,
        }
    }

    /// Lower-case words for explanations.
    pub fn word(self) -> &'static str {
        match self {
            Self::Beginner => "beginner",
            Self::Intermediate => "intermediate",
            Self::Advanced => "advanced",
            Self::Expert => "expert",
        }
    }

    /// One step harder, if any.
    pub fn up(self) -> Option<Self> {
        match self {
            Self::Beginner => Some(Self::Intermediate),
            Self::Intermediate => Some(Self::Advanced),
            Self::Advanced => Some(Self::Expert),
            Self::Expert => None,
        }
    }

    /// One step easier, if any.
    pub fn down(self) -> Option<Self> {
        match self {
            Self::Beginner => None,
            Self::Intermediate => Some(Self::Beginner),
            Self::Advanced => Some(Self::Intermediate),
            Self::Expert => Some(Self::Advanced),
        }
    }

    /// The starting difficulty for a profile's skill level.
    pub fn for_skill(skill: SkillLevel) -> Self {
        match skill {
            SkillLevel::Unspecified | SkillLevel::Beginner => Self::Beginner,
            SkillLevel::Intermediate => Self::Intermediate,
            SkillLevel::Advanced => Self::Advanced,
            SkillLevel::Professional => Self::Expert,
        }
    }
}

/// Why a suggestion is made (`RecommendationReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The area with the lowest recent mean score.
    Weakest,
    /// The area practised least recently, or never.
    Stalest,
    /// Consistently high scores: one step harder.
    NextDifficulty,
    /// Consistently low scores: one step easier.
    EasierDifficulty,
    /// A key never practised in the learner's main area.
    UntouchedKey,
    /// A key practised far less than the others in an area.
    AvoidedKey,
    /// No history yet.
    GettingStarted,
}

/// One area's history, as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaHistory {
    /// The skill area.
    pub area: String,
    /// Minutes (all time).
    pub minutes: i64,
    /// Latest practice.
    pub last: DateTime<Utc>,
    /// The latest (up to [`RECENT`]) scores with their difficulty, newest first.
    pub recent: Vec<(f64, Level)>,
}

/// Everything the rules look at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// Per-area history (practice and progress records).
    pub areas: &'a [AreaHistory],
    /// The matrix's practised cells.
    pub cells: &'a [CellFacts],
    /// (area, key, mode) of review cards whose last performance lapsed.
    pub lapsed: &'a [(String, String, Mode)],
    /// The profile's level.
    pub skill: SkillLevel,
    /// Now.
    pub now: DateTime<Utc>,
}

/// A suggestion, ready to become GenerationParameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Why.
    pub reason: Reason,
    /// The area it trains.
    pub area: String,
    /// What to generate.
    pub kind: ContentType,
    /// Conventional tonic.
    pub key: String,
    /// Mode.
    pub mode: Mode,
    /// Difficulty.
    pub level: Level,
    /// One sentence for display.
    pub explanation: String,
}

/// The content type that trains `area`; `None` for areas the engine has no
/// material for (free-form areas).
pub fn kind_for(area: &str) -> Option<ContentType> {
    match area {
        "improvisation" | "rhythm" => Some(ContentType::JazzLick),
        "chord_voicings" => Some(ContentType::ChordProgression),
        "scales" => Some(ContentType::ScalePattern),
        "harmony" => Some(ContentType::HarmonyExercise),
        "repertoire" => Some(ContentType::CompletePiece),
        "ear_training" | "sight_reading" => Some(ContentType::Melody),
        _ => None,
    }
}

fn words(area: &str) -> String {
    area.replace('_', " ")
}

fn mean(scores: &[(f64, Level)]) -> Option<f64> {
    (!scores.is_empty()).then(|| scores.iter().map(|(s, _)| s).sum::<f64>() / scores.len() as f64)
}

fn mode_word(mode: Mode) -> &'static str {
    match mode {
        Mode::Major => "major",
        Mode::Minor => "minor",
    }
}

/// The area's current difficulty: that of its latest score, else the
/// profile's.
fn current_level(history: Option<&AreaHistory>, skill: SkillLevel) -> Level {
    history.and_then(|h| h.recent.first().map(|(_, l)| *l)).unwrap_or_else(|| Level::for_skill(skill))
}

/// The key to work on in `area`: a lapsed card's, else the practised key
/// with the lowest recent mean, else the busiest, else C major.
fn focus_key(inputs: &Inputs<'_>, area: &str) -> (String, Mode) {
    if let Some((_, key, mode)) = inputs.lapsed.iter().find(|(a, _, _)| a == area) {
        return (key.clone(), *mode);
    }
    let in_area = || inputs.cells.iter().filter(|c| c.area == area && c.minutes > 0);
    let weakest = in_area()
        .filter_map(|c| c.recent_average.map(|avg| (avg, c)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c);
    match weakest.or_else(|| in_area().max_by_key(|c| c.minutes)) {
        Some(c) => (c.key.clone(), c.mode),
        None => ("C".to_owned(), Mode::Major),
    }
}

fn suggestion(
    reason: Reason,
    area: &str,
    key: (String, Mode),
    level: Level,
    explanation: String,
) -> Option<Suggestion> {
    Some(Suggestion {
        reason,
        area: area.to_owned(),
        kind: kind_for(area)?,
        key: key.0,
        mode: key.1,
        level,
        explanation,
    })
}

/// Difficulty moves: up after consistently high scores, back after low ones.
fn difficulty_moves(inputs: &Inputs<'_>, out: &mut Vec<Suggestion>) {
    for h in inputs.areas {
        let Some(&(_, level)) = h.recent.first() else { continue };
        // Only the latest run at the current difficulty counts.
        let run: Vec<(f64, Level)> = h.recent.iter().copied().take_while(|(_, l)| *l == level).collect();
        let Some(avg) = mean(&run).filter(|_| run.len() >= MIN_SCORES) else { continue };
        let n = run.len();
        let area = words(&h.area);
        let moved = if avg >= STEP_UP {
            level.up().and_then(|next| {
                let text = format!(
                    "Your last {n} {area} scores average {avg:.0} at {}: time for {}.",
                    level.word(),
                    next.word()
                );
                suggestion(Reason::NextDifficulty, &h.area, focus_key(inputs, &h.area), next, text)
            })
        } else if avg < STEP_BACK {
            level.down().and_then(|easier| {
                let text = format!(
                    "Your last {n} {area} scores average {avg:.0} at {}: consolidate at {} first.",
                    level.word(),
                    easier.word()
                );
                suggestion(Reason::EasierDifficulty, &h.area, focus_key(inputs, &h.area), easier, text)
            })
        } else {
            None
        };
        out.extend(moved);
    }
}

/// The weakest area by recent mean (below the step-up mark) among those
/// not already being stepped back.
fn weakest(inputs: &Inputs<'_>, out: &mut Vec<Suggestion>) {
    let stepped_back = |area: &str| out.iter().any(|s| s.area == area && s.reason == Reason::EasierDifficulty);
    let candidate = inputs
        .areas
        .iter()
        .filter(|h| kind_for(&h.area).is_some() && !stepped_back(&h.area))
        .filter_map(|h| mean(&h.recent).map(|avg| (avg, h)))
        .filter(|(avg, _)| *avg < STEP_UP)
        .min_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.area.cmp(&b.1.area)));
    let Some((avg, h)) = candidate else { return };
    let (key, mode) = focus_key(inputs, &h.area);
    let text = format!(
        "Your recent {} scores average {avg:.0}, your weakest area; work on {key} {} again.",
        words(&h.area),
        mode_word(mode)
    );
    out.extend(suggestion(Reason::Weakest, &h.area, (key, mode), current_level(Some(h), inputs.skill), text));
}

/// The stalest recommended area: never practised first (in listed order),
/// else the one untouched longest, if that is at least three days.
fn stalest(inputs: &Inputs<'_>, out: &mut Vec<Suggestion>) {
    let find = |area: &str| inputs.areas.iter().find(|h| h.area == area);
    if let Some(area) = RECOMMENDED_AREAS.iter().find(|a| find(a).is_none()) {
        let level = Level::for_skill(inputs.skill);
        let text = format!("You haven't practised {} yet.", words(area));
        out.extend(suggestion(Reason::Stalest, area, ("C".to_owned(), Mode::Major), level, text));
        return;
    }
    let oldest = inputs.areas.iter().filter(|h| kind_for(&h.area).is_some()).min_by_key(|h| h.last);
    let Some(h) = oldest else { return };
    let days = (inputs.now - h.last).num_days();
    if days < STALE_DAYS {
        return;
    }
    let text = format!("Your {} haven't been practised for {days} days.", words(&h.area));
    out.extend(suggestion(
        Reason::Stalest,
        &h.area,
        focus_key(inputs, &h.area),
        current_level(Some(h), inputs.skill),
        text,
    ));
}

/// Keys: the first key round the cycle of fourths never practised in the
/// learner's busiest area (in its busiest mode), and the most avoided
/// practised key of any area.
fn keys(inputs: &Inputs<'_>, out: &mut Vec<Suggestion>) {
    let busiest = inputs.areas.iter().filter(|h| kind_for(&h.area).is_some()).max_by_key(|h| h.minutes);
    if let Some(h) = busiest {
        let in_area: Vec<&CellFacts> = inputs.cells.iter().filter(|c| c.area == h.area && c.minutes > 0).collect();
        let major: i64 = in_area.iter().filter(|c| c.mode == Mode::Major).map(|c| c.minutes).sum();
        let minor: i64 = in_area.iter().filter(|c| c.mode == Mode::Minor).map(|c| c.minutes).sum();
        let mode = if minor > major { Mode::Minor } else { Mode::Major };
        let untouched = FOURTHS
            .iter()
            .filter_map(|k| conventional(k, mode))
            .find(|k| !in_area.iter().any(|c| c.mode == mode && c.key == *k));
        if let (Some(key), false) = (untouched, in_area.is_empty()) {
            let text = format!("You haven't practised {} in {key} {} yet.", words(&h.area), mode_word(mode));
            let level = current_level(Some(h), inputs.skill);
            out.extend(suggestion(Reason::UntouchedKey, &h.area, (key.to_owned(), mode), level, text));
        }
    }
    // Avoided: the practised key with the smallest share of its area's
    // busiest key, when below a quarter.
    let avoided = inputs
        .cells
        .iter()
        .filter(|c| c.minutes > 0 && kind_for(&c.area).is_some())
        .filter_map(|c| {
            let top = inputs.cells.iter().filter(|o| o.area == c.area).map(|o| o.minutes).max()?;
            let share = c.minutes as f64 / top.max(1) as f64;
            (share < AVOIDED_SHARE).then_some((share, c))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, c)) = avoided {
        let text = format!(
            "{} {} has only {} minutes of your {}, far less than your other keys.",
            c.key,
            mode_word(c.mode),
            c.minutes,
            words(&c.area)
        );
        let level = current_level(inputs.areas.iter().find(|h| h.area == c.area), inputs.skill);
        out.extend(suggestion(Reason::AvoidedKey, &c.area, (c.key.clone(), c.mode), level, text));
    }
}

/// Starting points for a learner without history, at their level.
fn getting_started(skill: SkillLevel, out: &mut Vec<Suggestion>) {
    let level = Level::for_skill(skill);
    for area in ["chord_voicings", "improvisation", "scales", "harmony", "repertoire"] {
        let text = format!("A {} starting point for {}: in C major.", level.word(), words(area));
        out.extend(suggestion(Reason::GettingStarted, area, ("C".to_owned(), Mode::Major), level, text));
    }
}

/// The suggestions, most useful first (difficulty moves, weakest, stalest,
/// keys), without repeats of the same material, at most `max`; never empty.
pub fn recommend(inputs: &Inputs<'_>, max: usize) -> Vec<Suggestion> {
    let mut out = Vec::new();
    if inputs.areas.is_empty() {
        getting_started(inputs.skill, &mut out);
    } else {
        difficulty_moves(inputs, &mut out);
        weakest(inputs, &mut out);
        stalest(inputs, &mut out);
        keys(inputs, &mut out);
        if out.is_empty() {
            getting_started(inputs.skill, &mut out);
        }
    }
    let mut seen = Vec::new();
    out.retain(|s| {
        let material = (s.kind, s.key.clone(), s.mode, s.level);
        let fresh = !seen.contains(&material);
        seen.push(material);
        fresh
    });
    out.truncate(max.max(1));
    out
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default()
    }

    fn area(name: &str, minutes: i64, days_ago: i64, recent: &[(f64, Level)]) -> AreaHistory {
        AreaHistory { area: name.into(), minutes, last: now() - Duration::days(days_ago), recent: recent.to_vec() }
    }

    fn cell(key: &str, area: &str, minutes: i64, avg: Option<f64>) -> CellFacts {
        CellFacts {
            key: key.into(),
            mode: Mode::Major,
            area: area.into(),
            minutes,
            last: Some(now()),
            recent_average: avg,
        }
    }

    fn every_area_recent() -> Vec<AreaHistory> {
        RECOMMENDED_AREAS.iter().map(|a| area(a, 60, 1, &[(65.0, Level::Intermediate)])).collect()
    }

    fn run(areas: &[AreaHistory], cells: &[CellFacts], lapsed: &[(String, String, Mode)]) -> Vec<Suggestion> {
        recommend(&Inputs { areas, cells, lapsed, skill: SkillLevel::Intermediate, now: now() }, 20)
    }

    #[test]
    fn no_history_gives_starting_points_at_the_profile_level() {
        let out =
            recommend(&Inputs { areas: &[], cells: &[], lapsed: &[], skill: SkillLevel::Advanced, now: now() }, 3);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|s| s.reason == Reason::GettingStarted && s.level == Level::Advanced));
        assert_eq!(out.first().map(|s| s.kind), Some(ContentType::ChordProgression));
    }

    #[test]
    fn consistently_high_scores_step_up_and_low_ones_step_back() {
        let mut areas = every_area_recent();
        areas[0] = area("improvisation", 90, 1, &[(92.0, Level::Intermediate); 4]);
        areas[2] = area("scales", 90, 1, &[(30.0, Level::Advanced), (40.0, Level::Advanced), (35.0, Level::Advanced)]);
        let out = run(&areas, &[], &[]);
        let up = out.iter().find(|s| s.reason == Reason::NextDifficulty);
        assert_eq!(
            up.map(|s| (s.area.as_str(), s.level, s.kind)),
            Some(("improvisation", Level::Advanced, ContentType::JazzLick))
        );
        let back = out.iter().find(|s| s.reason == Reason::EasierDifficulty);
        assert_eq!(back.map(|s| (s.area.as_str(), s.level)), Some(("scales", Level::Intermediate)));
        // The stepped-back area is not also listed as the weakest; the next
        // lowest is (every other area averages 65).
        assert!(!out.iter().any(|s| s.reason == Reason::Weakest && s.area == "scales"));
        let weak = out.iter().find(|s| s.reason == Reason::Weakest);
        assert!(weak.is_some_and(|s| s.area != "improvisation" && s.explanation.contains("65")), "{weak:?}");
        assert_eq!(out.first().map(|s| s.reason), Some(Reason::NextDifficulty));
    }

    #[test]
    fn high_scores_at_an_older_difficulty_do_not_count() {
        let mut areas = every_area_recent();
        // Just stepped up: one score at ADVANCED, four high ones before it.
        areas[0] = area(
            "improvisation",
            90,
            1,
            &[
                (70.0, Level::Advanced),
                (95.0, Level::Intermediate),
                (95.0, Level::Intermediate),
                (95.0, Level::Intermediate),
            ],
        );
        let out = run(&areas, &[], &[]);
        assert!(!out.iter().any(|s| s.reason == Reason::NextDifficulty), "{out:?}");
    }

    #[test]
    fn the_weakest_area_comes_with_its_lapsed_key() {
        let mut areas = every_area_recent();
        areas[1] = area("chord_voicings", 40, 1, &[(55.0, Level::Intermediate), (60.0, Level::Intermediate)]);
        let lapsed = [("chord_voicings".to_owned(), "Eb".to_owned(), Mode::Major)];
        let cells = [cell("C", "chord_voicings", 30, Some(50.0)), cell("Eb", "chord_voicings", 10, Some(58.0))];
        let out = run(&areas, &cells, &lapsed);
        let weak = out.iter().find(|s| s.reason == Reason::Weakest);
        assert_eq!(weak.map(|s| (s.area.as_str(), s.key.as_str())), Some(("chord_voicings", "Eb")));
        // Without a lapsed card, the cell with the lowest recent mean.
        let out = run(&areas, &cells, &[]);
        let weak = out.iter().find(|s| s.reason == Reason::Weakest);
        assert_eq!(weak.map(|s| s.key.as_str()), Some("C"));
        assert!(weak.is_some_and(|s| s.explanation.contains("58") || s.explanation.contains("average 58")));
    }

    #[test]
    fn never_practised_then_longest_untouched_areas_are_stale() {
        let areas = [area("improvisation", 100, 0, &[(70.0, Level::Beginner)])];
        let out = run(&areas, &[], &[]);
        let stale = out.iter().find(|s| s.reason == Reason::Stalest);
        assert_eq!(stale.map(|s| s.area.as_str()), Some("chord_voicings"));
        assert!(stale.is_some_and(|s| s.explanation.contains("yet")));
        let mut areas = every_area_recent();
        areas[4] = area("repertoire", 30, 12, &[]);
        let out = run(&areas, &[], &[]);
        let stale = out.iter().find(|s| s.reason == Reason::Stalest);
        assert_eq!(stale.map(|s| (s.area.as_str(), s.kind)), Some(("repertoire", ContentType::CompletePiece)));
        assert!(stale.is_some_and(|s| s.explanation.contains("12 days")));
    }

    #[test]
    fn untouched_and_avoided_keys() {
        let mut areas = every_area_recent();
        areas[0] = area("improvisation", 500, 1, &[(70.0, Level::Intermediate)]);
        let cells = [
            cell("C", "improvisation", 200, None),
            cell("F", "improvisation", 180, None),
            cell("Eb", "improvisation", 20, None),
        ];
        let out = run(&areas, &cells, &[]);
        let untouched = out.iter().find(|s| s.reason == Reason::UntouchedKey);
        assert_eq!(untouched.map(|s| (s.area.as_str(), s.key.as_str())), Some(("improvisation", "Bb")));
        let avoided = out.iter().find(|s| s.reason == Reason::AvoidedKey);
        assert_eq!(avoided.map(|s| s.key.as_str()), Some("Eb"));
    }

    #[test]
    fn results_are_capped_and_never_repeat_material() {
        let mut areas = every_area_recent();
        areas[0] = area("improvisation", 90, 1, &[(92.0, Level::Intermediate); 4]);
        let out =
            recommend(&Inputs { areas: &areas, cells: &[], lapsed: &[], skill: SkillLevel::Beginner, now: now() }, 1);
        assert_eq!(out.len(), 1);
        let all = run(&areas, &[], &[]);
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert!((a.kind, &a.key, a.mode, a.level) != (b.kind, &b.key, b.mode, b.level));
            }
        }
        // A balanced, recent, middling history still answers something.
        assert!(!run(&every_area_recent(), &[], &[]).is_empty());
    }
}
