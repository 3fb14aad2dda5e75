//! GetRecommendations: reads the learner's per-area history, practised
//! cells and lapsed review cards (three queries), the profile's skill level
//! from identity, and hands them to `domain::recommend`.

use chrono::Utc;
use jazz_contract::jazz::common::v1::Difficulty;
use jazz_contract::jazz::content::v1::GenerationParameters;
use jazz_contract::jazz::progress::v1::{
    GetRecommendationsRequest, GetRecommendationsResponse, Recommendation, RecommendationReason,
};
use jazz_platform::Principal;
use uuid::Uuid;

use super::convert::key_mode;
use super::learning::{fill_missing_facts, practised_cells};
use super::progress::ProgressApi;
use crate::domain::mastery::Mode;
use crate::domain::recommend::{AreaHistory, Inputs, Level, RECENT, Reason, Suggestion, recommend};
use crate::error::ProgressError;
use crate::store::learning as store;

/// Default and largest `max_results`.
const DEFAULT_RESULTS: i32 = 5;
const MAX_RESULTS: i32 = 20;
/// A review card whose last performance is below this has lapsed (SM-2's
/// restart mark).
const LAPSED_BELOW: f64 = 60.0;

fn reason(reason: Reason) -> RecommendationReason {
    match reason {
        Reason::Weakest => RecommendationReason::WeakestSkillArea,
        Reason::Stalest => RecommendationReason::StalestSkillArea,
        Reason::NextDifficulty => RecommendationReason::NextDifficulty,
        Reason::EasierDifficulty => RecommendationReason::EasierDifficulty,
        Reason::UntouchedKey => RecommendationReason::UntouchedKey,
        Reason::AvoidedKey => RecommendationReason::AvoidedKey,
        Reason::GettingStarted => RecommendationReason::GettingStarted,
    }
}

fn difficulty(level: Level) -> Difficulty {
    match level {
        Level::Beginner => Difficulty::Beginner,
        Level::Intermediate => Difficulty::Intermediate,
        Level::Advanced => Difficulty::Advanced,
        Level::Expert => Difficulty::Expert,
    }
}

fn to_api(s: Suggestion) -> Recommendation {
    Recommendation {
        reason: reason(s.reason).into(),
        explanation: s.explanation,
        skill_area: s.area,
        parameters: Some(GenerationParameters {
            r#type: s.kind.into(),
            key: s.key,
            mode: key_mode(s.mode).into(),
            difficulty: difficulty(s.level).into(),
            ..Default::default()
        }),
    }
}

/// Folds the store's rows (grouped by area, newest first) into histories.
fn histories(rows: Vec<store::AreaEventRow>) -> Vec<AreaHistory> {
    let mut out: Vec<AreaHistory> = Vec::new();
    for row in rows {
        let score = row.score.zip(Level::parse(&row.difficulty));
        match out.last_mut() {
            Some(h) if h.area == row.skill_area => h.recent.extend(score),
            _ => out.push(AreaHistory {
                area: row.skill_area,
                minutes: row.area_minutes,
                last: row.area_last,
                recent: score.into_iter().collect(),
            }),
        }
    }
    out
}

/// `GetRecommendations`.
pub async fn recommendations(
    api: &ProgressApi,
    principal: &Principal,
    me: Uuid,
    req: GetRecommendationsRequest,
) -> Result<GetRecommendationsResponse, ProgressError> {
    let GetRecommendationsRequest { max_results } = req;
    let max = match max_results {
        0 => DEFAULT_RESULTS,
        n if (1..=MAX_RESULTS).contains(&n) => n,
        _ => return Err(ProgressError::field("max_results", "must be 0–20")),
    };
    let (_, skill) = api.peers.learner(me).await;
    let mut conn = api.context.pool.get().await?;
    fill_missing_facts(&mut conn, &api.peers, principal, me).await?;
    let per_area = i64::try_from(RECENT).unwrap_or(5);
    let areas = histories(store::area_history(&mut conn, me, per_area).await?);
    let cells = practised_cells(&mut conn, me).await?;
    let lapsed: Vec<(String, String, Mode)> = store::lapsed_cards(&mut conn, me, LAPSED_BELOW)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.skill_area?, r.key?, Mode::parse(&r.mode?)?)))
        .collect();
    drop(conn);
    let inputs = Inputs { areas: &areas, cells: &cells, lapsed: &lapsed, skill, now: Utc::now() };
    let suggestions = recommend(&inputs, usize::try_from(max).unwrap_or(5));
    Ok(GetRecommendationsResponse { recommendations: suggestions.into_iter().map(to_api).collect() })
}
