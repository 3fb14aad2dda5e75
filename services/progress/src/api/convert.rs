//! Rows → protobuf messages, and the JSON the audit log keeps.

use jazz_contract::jazz::progress::v1::{PracticeRecord, PracticeSession, ProgressRecord};
use jazz_platform::ids::to_api;
use serde_json::json;

use jazz_contract::jazz::common::v1::KeyMode;

use crate::domain::fields::{difficulty_to_api, timestamp};
use crate::domain::mastery::Mode;
use crate::domain::practice::duration_minutes;
use crate::store::models::{ProgressRow, RecordRow, SessionRow};

/// A session with `records` (empty in lists), `count` records summing to
/// `minutes`.
pub fn session(row: &SessionRow, records: Vec<PracticeRecord>, count: i64, minutes: i64) -> PracticeSession {
    PracticeSession {
        id: to_api(row.id),
        user_id: to_api(row.user_id),
        title: row.title.clone().unwrap_or_default(),
        goals: row.goals.clone(),
        achievements: row.achievements.clone(),
        notes: row.notes.clone().unwrap_or_default(),
        rating: row.rating,
        duration_minutes: duration_minutes(row.started_at, row.ended_at, minutes),
        // Progress never writes metadata; stored JSON is not exposed yet.
        metadata: None,
        started_at: Some(timestamp(row.started_at)),
        ended_at: row.ended_at.map(timestamp),
        records,
        record_count: i32::try_from(count).unwrap_or(i32::MAX),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

/// A practice record.
pub fn record(row: &RecordRow) -> PracticeRecord {
    PracticeRecord {
        id: to_api(row.id),
        practice_session_id: to_api(row.practice_session_id),
        content_id: to_api(row.generated_content_id),
        minutes: row.time_spent,
        repetitions: row.repetitions,
        difficulty: difficulty_to_api(&row.difficulty).into(),
        performance: row.performance,
        notes: row.notes.clone().unwrap_or_default(),
        created_at: Some(timestamp(row.created_at)),
        practiced_at: Some(timestamp(row.practiced_at)),
        key: row.key.clone().unwrap_or_default(),
        mode: row.mode.as_deref().and_then(Mode::parse).map_or(KeyMode::Unspecified, key_mode).into(),
        skill_area: row.skill_area.clone().unwrap_or_default(),
    }
}

/// A stored mode as the API's.
pub fn key_mode(mode: Mode) -> KeyMode {
    match mode {
        Mode::Major => KeyMode::Major,
        Mode::Minor => KeyMode::Minor,
    }
}

/// A progress record.
pub fn progress(row: &ProgressRow) -> ProgressRecord {
    ProgressRecord {
        id: to_api(row.id),
        user_id: to_api(row.user_id),
        content_id: row.generated_content_id.map(to_api).unwrap_or_default(),
        skill_area: row.skill_area.clone(),
        difficulty: difficulty_to_api(&row.difficulty_level).into(),
        score: row.score,
        minutes: row.time_spent,
        completion_rate: row.completion_rate,
        notes: row.notes.clone().unwrap_or_default(),
        metadata: None,
        recorded_at: Some(timestamp(row.recorded_at)),
    }
}

/// What the audit log keeps of a session (no free text).
pub fn session_json(row: &SessionRow) -> serde_json::Value {
    json!({
        "user_id": to_api(row.user_id),
        "goals": row.goals.len(),
        "achievements": row.achievements.len(),
        "rating": row.rating,
        "duration": row.duration,
        "started_at": row.started_at.to_rfc3339(),
        "ended_at": row.ended_at.map(|at| at.to_rfc3339()),
    })
}

/// What the audit log keeps of a practice record.
pub fn record_json(row: &RecordRow) -> serde_json::Value {
    json!({
        "practice_session_id": to_api(row.practice_session_id),
        "content_id": to_api(row.generated_content_id),
        "minutes": row.time_spent,
        "repetitions": row.repetitions,
        "difficulty": row.difficulty,
        "performance": row.performance,
        "practiced_at": row.practiced_at.to_rfc3339(),
        "key": row.key,
        "mode": row.mode,
        "skill_area": row.skill_area,
    })
}

/// What the audit log keeps of a progress record.
pub fn progress_json(row: &ProgressRow) -> serde_json::Value {
    json!({
        "skill_area": row.skill_area,
        "content_id": row.generated_content_id.map(to_api),
        "difficulty": row.difficulty_level,
        "score": row.score,
        "minutes": row.time_spent,
        "completion_rate": row.completion_rate,
        "recorded_at": row.recorded_at.to_rfc3339(),
    })
}
