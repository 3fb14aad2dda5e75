//! GetProfile and UpdateProfile: the four JSON fields are replaced whole,
//! each checked for size (16 KiB) and depth (8) before anything is written.

use diesel_async::AsyncConnection as _;
use jazz_contract::jazz::common::v1::SkillLevel;
use jazz_contract::jazz::identity::v1::{GetProfileResponse, UpdateProfileRequest, UpdateProfileResponse};
use jazz_platform::Principal;
use jazz_platform::audit::AuditEntry;
use jazz_platform::error::{FieldViolation, Violations};
use jazz_platform::ids::to_api;
use uuid::Uuid;

use super::convert::{self, skill_to_db};
use super::user::UserApi;
use crate::error::IdentityError;
use crate::store::users::{self, ProfileChanges};
use jazz_platform::json::struct_to_json;

/// The caller's profile.
pub async fn get(api: &UserApi, user_id: Uuid) -> Result<GetProfileResponse, IdentityError> {
    let mut conn = api.context.pool.get().await?;
    let profile = users::profile(&mut conn, user_id).await?;
    Ok(GetProfileResponse { profile: Some(convert::profile(&profile)) })
}

fn json_field(
    v: &mut Violations,
    field: &str,
    value: Option<&prost_types::Struct>,
) -> Option<Option<serde_json::Value>> {
    match value {
        None => Some(None),
        Some(value) => v.check(struct_to_json(field, value)).map(Some),
    }
}

/// Applies the masked fields of `req.profile`.
pub async fn update(
    api: &UserApi,
    principal: &Principal,
    user_id: Uuid,
    req: UpdateProfileRequest,
) -> Result<UpdateProfileResponse, IdentityError> {
    let UpdateProfileRequest { profile, update_mask } = req;
    let paths = update_mask.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(IdentityError::field("update_mask", "must name at least one field"));
    }
    let profile = profile.unwrap_or_default();
    let mut v = Violations::new();
    let mut changes = ProfileChanges::default();
    for path in &paths {
        match path.as_str() {
            "skill_level" => {
                let level = SkillLevel::try_from(profile.skill_level).ok().and_then(skill_to_db);
                match level {
                    Some(level) => changes.skill_level = Some(level.to_owned()),
                    None => v.push(FieldViolation::new("profile.skill_level", "must be a known, specified skill level")),
                }
            }
            "musical_background" => {
                changes.musical_background =
                    json_field(&mut v, "profile.musical_background", profile.musical_background.as_ref());
            }
            "learning_goals" => {
                changes.learning_goals = json_field(&mut v, "profile.learning_goals", profile.learning_goals.as_ref());
            }
            "preferences" => changes.preferences = json_field(&mut v, "profile.preferences", profile.preferences.as_ref()),
            "practice_schedule" => {
                changes.practice_schedule =
                    json_field(&mut v, "profile.practice_schedule", profile.practice_schedule.as_ref());
            }
            other => v.push(FieldViolation::new(
                "update_mask",
                format!(
                    "{other:?} cannot be changed; allowed: skill_level, musical_background, learning_goals, preferences, practice_schedule"
                ),
            )),
        }
    }
    v.finish().map_err(IdentityError::Invalid)?;
    let mut conn = api.context.pool.get().await?;
    let after = conn
        .transaction(async |conn| {
            let before = users::profile(conn, user_id).await?;
            let after = users::update_profile(conn, user_id, &changes).await?;
            AuditEntry::new(principal, "UPDATE", "user_profiles", Some(to_api(after.id)))
                .with_change(Some(profile_json(&before)), Some(profile_json(&after)))
                .write(conn)
                .await?;
            Ok::<_, IdentityError>(after)
        })
        .await?;
    Ok(UpdateProfileResponse { profile: Some(convert::profile(&after)) })
}

fn profile_json(row: &crate::store::models::ProfileRow) -> serde_json::Value {
    serde_json::json!({
        "skill_level": row.skill_level,
        "musical_background": row.musical_background,
        "learning_goals": row.learning_goals,
        "preferences": row.preferences,
        "practice_schedule": row.practice_schedule,
    })
}
