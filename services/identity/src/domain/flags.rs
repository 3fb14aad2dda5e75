//! Feature-flag evaluation (see `feature_flags.proto`): a stable rollout
//! bucket per (flag, user) and targeting conditions on skill level, tier and
//! locale.

use jazz_platform::error::FieldViolation;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// What a flag's conditions are matched against.
#[derive(Debug, Clone)]
pub struct Audience {
    /// The user's id in API form (ULID).
    pub user_id: String,
    /// `SKILL_LEVEL_…` name of the user's profile level.
    pub skill_level: String,
    /// `SUBSCRIPTION_TIER_…` name, when known (billing owns it).
    pub tier: Option<String>,
    /// The user's BCP 47 tag.
    pub locale: String,
}

/// The user's bucket for `flag`: the first 8 bytes of
/// SHA-256("<flag>:<user id>") as a big-endian integer, modulo 10 000.
pub fn bucket(flag: &str, user_id: &str) -> u64 {
    let digest = Sha256::digest(format!("{flag}:{user_id}").as_bytes());
    let mut first = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 10_000
}

/// Whether `flag` (enabled, `rollout` percent, `conditions`) is on for
/// `audience`.
pub fn is_on(
    flag: &str,
    enabled: bool,
    rollout: f64,
    conditions: Option<&serde_json::Value>,
    audience: &Audience,
) -> bool {
    if !enabled || !matches(conditions, audience) {
        return false;
    }
    // bucket < pct × 100, in floating point so fractions of a percent count.
    (bucket(flag, &audience.user_id) as f64) < rollout * 100.0
}

fn listed<'a>(conditions: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Option<Vec<&'a str>> {
    conditions.get(key).map(|v| v.as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect()).unwrap_or_default())
}

/// All present keys must match (AND); within a key any value matches (OR).
/// A `tiers` condition needs the tier; without it the flag stays off.
fn matches(conditions: Option<&serde_json::Value>, audience: &Audience) -> bool {
    let Some(serde_json::Value::Object(conditions)) = conditions else {
        return true; // unset, null: everyone
    };
    let skill = listed(conditions, "skill_levels").is_none_or(|levels| levels.contains(&audience.skill_level.as_str()));
    let tier = listed(conditions, "tiers")
        .is_none_or(|tiers| audience.tier.as_deref().is_some_and(|tier| tiers.contains(&tier)));
    let locale = listed(conditions, "locales").is_none_or(|locales| {
        locales.iter().any(|l| audience.locale == *l || audience.locale.starts_with(&format!("{l}-")))
    });
    skill && tier && locale
}

/// The ULID form of a stored user id, for bucketing.
pub fn user_key(user_id: Uuid) -> String {
    jazz_platform::ids::to_api(user_id)
}

/// A flag name: 1–100 characters of `[a-z0-9_.-]`.
pub fn name(field: &str, raw: &str) -> Result<String, FieldViolation> {
    let ok = (1..=100).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(FieldViolation::new(field, "must be 1-100 characters of a-z, 0-9, _, . and -"))
    }
}

/// A description: at most 1000 characters, no control characters except
/// line breaks and tabs; empty for none.
pub fn description(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.chars().count() > 1000 {
        return Err(FieldViolation::new(field, "must be at most 1000 characters"));
    }
    if raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    Ok((!raw.is_empty()).then(|| raw.to_owned()))
}

/// A rollout percentage: finite, 0–100.
pub fn rollout(field: &str, value: f64) -> Result<f64, FieldViolation> {
    if value.is_finite() && (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(FieldViolation::new(field, "must be a number from 0 to 100"))
    }
}

const SKILL_LEVELS: &[&str] =
    &["SKILL_LEVEL_BEGINNER", "SKILL_LEVEL_INTERMEDIATE", "SKILL_LEVEL_ADVANCED", "SKILL_LEVEL_PROFESSIONAL"];
const TIERS: &[&str] = &["SUBSCRIPTION_TIER_FREE", "SUBSCRIPTION_TIER_PRO", "SUBSCRIPTION_TIER_EDUCATOR"];

/// Targeting conditions (already JSON, size-checked): `{}` or `null` for
/// everyone, else an object with only `skill_levels`, `tiers` and `locales`,
/// each a list of known values. Stored as given; `{}` is stored as NULL.
pub fn conditions(field: &str, value: serde_json::Value) -> Result<Option<serde_json::Value>, FieldViolation> {
    let serde_json::Value::Object(map) = &value else {
        return match value {
            serde_json::Value::Null => Ok(None),
            _ => Err(FieldViolation::new(field, "must be an object")),
        };
    };
    if map.is_empty() {
        return Ok(None);
    }
    for (key, list) in map {
        let items = list
            .as_array()
            .filter(|items| !items.is_empty())
            .ok_or_else(|| FieldViolation::new(format!("{field}.{key}"), "must be a non-empty list of strings"))?;
        for item in items {
            let text = item.as_str().unwrap_or_default();
            let known = match key.as_str() {
                "skill_levels" => SKILL_LEVELS.contains(&text),
                "tiers" => TIERS.contains(&text),
                "locales" => crate::domain::fields::locale(field, text).is_ok() && !text.is_empty(),
                _ => {
                    return Err(FieldViolation::new(
                        field,
                        format!("unknown key {key:?}; allowed: skill_levels, tiers, locales"),
                    ));
                }
            };
            if !known {
                return Err(FieldViolation::new(format!("{field}.{key}"), format!("unknown value {item}")));
            }
        }
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn audience(user: &str) -> Audience {
        Audience {
            user_id: user.into(),
            skill_level: "SKILL_LEVEL_ADVANCED".into(),
            tier: None,
            locale: "de-AT".into(),
        }
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        assert_eq!(bucket("f", "u1"), bucket("f", "u1"));
        let on = (0..1000).filter(|i| is_on("half", true, 50.0, None, &audience(&format!("user{i}")))).count();
        assert!((400..600).contains(&on), "{on}");
        assert!(!is_on("f", true, 0.0, None, &audience("u")));
        assert!(is_on("f", true, 100.0, None, &audience("u")));
        assert!(!is_on("f", false, 100.0, None, &audience("u")));
    }

    #[test]
    fn conditions_and_within_or_across() {
        let a = audience("u");
        assert!(is_on("f", true, 100.0, Some(&json!({"locales": ["de"]})), &a));
        assert!(!is_on("f", true, 100.0, Some(&json!({"locales": ["d"]})), &a));
        let both = json!({"skill_levels": ["SKILL_LEVEL_BEGINNER", "SKILL_LEVEL_ADVANCED"], "locales": ["de-AT"]});
        assert!(is_on("f", true, 100.0, Some(&both), &a));
        assert!(!is_on("f", true, 100.0, Some(&json!({"skill_levels": ["SKILL_LEVEL_BEGINNER"]})), &a));
        assert!(!is_on("f", true, 100.0, Some(&json!({"tiers": ["SUBSCRIPTION_TIER_PRO"]})), &a));
    }

    #[test]
    fn flag_fields_are_checked() {
        assert!(name("n", "ai_generation_v2").is_ok());
        assert!(name("n", "Bad Name").is_err());
        assert!(rollout("r", f64::NAN).is_err());
        assert!(rollout("r", 100.5).is_err());
        assert_eq!(rollout("r", 0.5).ok(), Some(0.5));
        assert!(description("d", "a\0b").is_err());
        assert_eq!(conditions("c", json!({})).ok(), Some(None));
        assert!(conditions("c", json!({"locales": ["de", "en-GB"], "tiers": ["SUBSCRIPTION_TIER_PRO"]})).is_ok());
        assert!(conditions("c", json!({"colour": ["red"]})).is_err());
        assert!(conditions("c", json!({"skill_levels": ["SKILL_LEVEL_GOD"]})).is_err());
        assert!(conditions("c", json!({"locales": "de"})).is_err());
    }
}
