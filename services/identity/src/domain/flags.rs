//! Feature-flag evaluation (see `feature_flags.proto`): a stable rollout
//! bucket per (flag, user) and targeting conditions on skill level, tier and
//! locale.

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
}
