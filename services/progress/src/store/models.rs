//! Rows as diesel reads and writes them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{practice_records, practice_sessions, progress_records};

/// A row of `practice_sessions`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = practice_sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    /// ULID.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// Title.
    pub title: Option<String>,
    /// Minutes, as last stored (0 while open; set when ended).
    pub duration: i32,
    /// Goals.
    pub goals: Vec<String>,
    /// Achievements.
    pub achievements: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
    /// 1–5.
    pub rating: Option<i32>,
    /// Additional data.
    pub metadata: Option<serde_json::Value>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// Row creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A row of `practice_records`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = practice_records, check_for_backend(diesel::pg::Pg))]
pub struct RecordRow {
    /// ULID.
    pub id: Uuid,
    /// The session.
    pub practice_session_id: Uuid,
    /// The item.
    pub generated_content_id: Uuid,
    /// Minutes.
    pub time_spent: i32,
    /// Play-throughs.
    pub repetitions: i32,
    /// Stored difficulty.
    pub difficulty: String,
    /// 0–100.
    pub performance: Option<f64>,
    /// Notes.
    pub notes: Option<String>,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// The session's owner (NULL only on rows of an older release).
    pub user_id: Option<Uuid>,
    /// When the practice happened.
    pub practiced_at: DateTime<Utc>,
    /// The item's tonic in conventional spelling, when known.
    pub key: Option<String>,
    /// `MAJOR` or `MINOR`, when known.
    pub mode: Option<String>,
    /// The skill area of the item's type, when known.
    pub skill_area: Option<String>,
}

/// A row of `progress_records`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = progress_records, check_for_backend(diesel::pg::Pg))]
pub struct ProgressRow {
    /// ULID.
    pub id: Uuid,
    /// The owner.
    pub user_id: Uuid,
    /// The item, if any.
    pub generated_content_id: Option<Uuid>,
    /// Skill area.
    pub skill_area: String,
    /// Stored difficulty.
    pub difficulty_level: String,
    /// 0–100.
    pub score: Option<f64>,
    /// Minutes.
    pub time_spent: i32,
    /// 0–100.
    pub completion_rate: Option<f64>,
    /// Notes.
    pub notes: Option<String>,
    /// Additional data.
    pub metadata: Option<serde_json::Value>,
    /// When the practice happened.
    pub recorded_at: DateTime<Utc>,
}
