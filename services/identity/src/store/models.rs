//! Rows as loaded from identity's tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{accounts, feature_flags, sessions, user_profiles, users};

/// A `users` row. No `Debug`: it holds the password hash.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    /// ULID.
    pub id: Uuid,
    /// Normalised address.
    pub email: String,
    /// When verified.
    pub email_verified: Option<DateTime<Utc>>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Public handle.
    pub username: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// IANA zone.
    pub timezone: String,
    /// BCP 47 tag.
    pub locale: String,
    /// False when deactivated.
    pub is_active: bool,
    /// Latest sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// argon2id PHC string (never leaves the service).
    pub password_hash: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Soft delete.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl UserRow {
    /// The fields an audit entry may show (no secrets).
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "email_verified": self.email_verified,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "avatar": self.avatar,
            "timezone": self.timezone,
            "locale": self.locale,
            "is_active": self.is_active,
            "deleted_at": self.deleted_at,
        })
    }

    /// Whether the account may hold sessions.
    pub fn is_live(&self) -> bool {
        self.is_active && self.deleted_at.is_none()
    }
}

/// A `user_profiles` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_profiles, check_for_backend(diesel::pg::Pg))]
pub struct ProfileRow {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `BEGINNER` … `PROFESSIONAL`.
    pub skill_level: String,
    /// Free-form JSON.
    pub musical_background: Option<serde_json::Value>,
    /// Free-form JSON.
    pub learning_goals: Option<serde_json::Value>,
    /// Free-form JSON.
    pub preferences: Option<serde_json::Value>,
    /// Free-form JSON.
    pub practice_schedule: Option<serde_json::Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A `sessions` row (without the token hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Hard expiry.
    pub expires: DateTime<Utc>,
    /// Client address at sign-in.
    pub ip_address: Option<String>,
    /// Client user agent at sign-in.
    pub user_agent: Option<String>,
    /// Last validation.
    pub last_seen_at: DateTime<Utc>,
    /// Revocation.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Creation (the sign-in).
    pub created_at: DateTime<Utc>,
}

/// A `feature_flags` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feature_flags, check_for_backend(diesel::pg::Pg))]
pub struct FlagRow {
    /// Unique name.
    pub name: String,
    /// Master switch.
    pub is_enabled: bool,
    /// 0–100.
    pub rollout_percentage: f64,
    /// Targeting.
    pub conditions: Option<serde_json::Value>,
}

/// An `accounts` row without its token columns (which never leave the
/// service, not even sealed).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
pub struct AccountRow {
    /// ULID.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// `oidc` or `oauth`.
    pub type_: String,
    /// `google`, `apple`, `facebook`.
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// Access-token expiry, seconds since the epoch.
    pub expires_at: Option<i64>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Creation (the link).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl AccountRow {
    /// The fields an audit entry may show (no tokens).
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": self.provider,
            "provider_account_id": self.provider_account_id,
            "type": self.type_,
            "scope": self.scope,
            "expires_at": self.expires_at,
        })
    }
}

/// A whole `feature_flags` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feature_flags, check_for_backend(diesel::pg::Pg))]
pub struct FlagRecord {
    /// ULID.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// What the flag gates.
    pub description: Option<String>,
    /// Master switch.
    pub is_enabled: bool,
    /// 0–100.
    pub rollout_percentage: f64,
    /// Targeting.
    pub conditions: Option<serde_json::Value>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl FlagRecord {
    /// The fields an audit entry shows.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "is_enabled": self.is_enabled,
            "rollout_percentage": self.rollout_percentage,
            "conditions": self.conditions,
        })
    }
}
