//! Rows → protobuf messages. Secrets (password hash, token hashes) have no
//! field to go to.

use jazz_contract::jazz::common::v1::SkillLevel;
use jazz_contract::jazz::identity::v1::{Account, FeatureFlag, Session, User, UserProfile};
use jazz_platform::ids::to_api;
use uuid::Uuid;

use crate::store::models::{AccountRow, FlagRecord, ProfileRow, SessionRow, UserRow};
use jazz_platform::json::json_to_struct;

use crate::domain::RETENTION;

pub use jazz_platform::fields::timestamp;

/// The API form of a user.
pub fn user(row: &UserRow) -> User {
    User {
        id: to_api(row.id),
        email: row.email.clone(),
        email_verified: row.email_verified.map(timestamp),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        username: row.username.clone().unwrap_or_default(),
        avatar: row.avatar.clone().unwrap_or_default(),
        timezone: row.timezone.clone(),
        locale: row.locale.clone(),
        is_active: row.is_active,
        last_login_at: row.last_login_at.map(timestamp),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        deleted_at: row.deleted_at.map(timestamp),
        purge_time: row.deleted_at.map(|at| timestamp(at + RETENTION)),
    }
}

/// The stored skill level for an API value (`None` for UNSPECIFIED).
pub fn skill_to_db(level: SkillLevel) -> Option<&'static str> {
    match level {
        SkillLevel::Unspecified => None,
        SkillLevel::Beginner => Some("BEGINNER"),
        SkillLevel::Intermediate => Some("INTERMEDIATE"),
        SkillLevel::Advanced => Some("ADVANCED"),
        SkillLevel::Professional => Some("PROFESSIONAL"),
    }
}

/// The API value of a stored skill level.
pub fn skill_from_db(level: &str) -> SkillLevel {
    match level {
        "INTERMEDIATE" => SkillLevel::Intermediate,
        "ADVANCED" => SkillLevel::Advanced,
        "PROFESSIONAL" => SkillLevel::Professional,
        _ => SkillLevel::Beginner,
    }
}

/// The API form of a profile.
pub fn profile(row: &ProfileRow) -> UserProfile {
    UserProfile {
        id: to_api(row.id),
        user_id: to_api(row.user_id),
        skill_level: skill_from_db(&row.skill_level).into(),
        musical_background: row.musical_background.as_ref().map(json_to_struct),
        learning_goals: row.learning_goals.as_ref().map(json_to_struct),
        preferences: row.preferences.as_ref().map(json_to_struct),
        practice_schedule: row.practice_schedule.as_ref().map(json_to_struct),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

/// The API form of a session; `current` is the calling session.
pub fn session(row: &SessionRow, current: Option<Uuid>) -> Session {
    Session {
        id: to_api(row.id),
        created_at: Some(timestamp(row.created_at)),
        expires_at: Some(timestamp(row.expires)),
        last_seen_at: Some(timestamp(row.last_seen_at)),
        ip_address: row.ip_address.clone().unwrap_or_default(),
        user_agent: row.user_agent.clone().unwrap_or_default(),
        current: current == Some(row.id),
    }
}

/// The API form of a linked account (it has no token fields).
pub fn account(row: &AccountRow) -> Account {
    Account {
        id: to_api(row.id),
        provider: row.provider.clone(),
        provider_account_id: row.provider_account_id.clone(),
        r#type: row.type_.clone(),
        scope: row.scope.clone().unwrap_or_default(),
        expires_at: row.expires_at.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

/// The API form of a feature flag.
pub fn flag(row: &FlagRecord) -> FeatureFlag {
    FeatureFlag {
        id: to_api(row.id),
        name: row.name.clone(),
        description: row.description.clone().unwrap_or_default(),
        is_enabled: row.is_enabled,
        rollout_percentage: row.rollout_percentage,
        conditions: row.conditions.as_ref().map(json_to_struct),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}
