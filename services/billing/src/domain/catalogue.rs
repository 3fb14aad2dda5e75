//! The plan catalogue: one plan per tier with its price and entitlements,
//! loaded from `seeds/billing/plans.json` (via the `plans` table), never
//! written in code. A feature is "known" when any plan names it; a plan that
//! does not name a known feature does not include it.

use std::collections::{BTreeMap, BTreeSet};

use super::tier::Tier;

/// What a plan allows of one feature per billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Not part of the plan (absent from its entitlements, or a limit of 0).
    NotIncluded,
    /// Up to this many units (≥ 1).
    Limited(i64),
    /// No limit (`null` in the entitlements).
    Unlimited,
}

/// Why a plan's entitlements JSON was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// The entitlements are not a JSON object.
    #[error("entitlements must be a JSON object of feature -> limit or null")]
    NotAnObject,
    /// A feature name is not lower_snake_case of 1–64 characters.
    #[error("feature name {0:?} must be lower_snake_case, 1-64 characters")]
    BadFeature(String),
    /// A limit is neither null nor a non-negative integer.
    #[error("limit of {0} must be null (unlimited) or a non-negative integer")]
    BadLimit(String),
    /// A stored tier or billing interval is unknown.
    #[error("unknown {what} {value:?}")]
    Unknown {
        /// Which column.
        what: &'static str,
        /// The stored value.
        value: String,
    },
}

/// Whether `name` is a well-formed feature name: lower_snake_case starting
/// with a letter, 1–64 characters (the `usage_records.feature` bound).
pub fn is_feature_name(name: &str) -> bool {
    name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Parses a plan's `entitlements` JSON: `{"feature": limit | null}`.
pub fn parse_entitlements(json: &serde_json::Value) -> Result<BTreeMap<String, Limit>, CatalogueError> {
    let object = json.as_object().ok_or(CatalogueError::NotAnObject)?;
    let mut entitlements = BTreeMap::new();
    for (feature, value) in object {
        if !is_feature_name(feature) {
            return Err(CatalogueError::BadFeature(feature.clone()));
        }
        let limit = match value {
            serde_json::Value::Null => Limit::Unlimited,
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(0) => Limit::NotIncluded,
                Some(n) if n > 0 => Limit::Limited(n),
                _ => return Err(CatalogueError::BadLimit(feature.clone())),
            },
            _ => return Err(CatalogueError::BadLimit(feature.clone())),
        };
        entitlements.insert(feature.clone(), limit);
    }
    Ok(entitlements)
}

/// One plan of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The tier it sells.
    pub tier: Tier,
    /// Display name.
    pub name: String,
    /// Marketing text.
    pub description: String,
    /// Stripe's price id; `None` for FREE.
    pub stripe_price_id: Option<String>,
    /// Price in minor units.
    pub price_amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Months per billing period (1 or 12).
    pub interval_months: u32,
    /// Feature → limit, for the features the plan names.
    pub entitlements: BTreeMap<String, Limit>,
}

/// Months per period for a stored `billing_interval`.
pub fn interval_months(interval: &str) -> Result<u32, CatalogueError> {
    match interval {
        "month" => Ok(1),
        "year" => Ok(12),
        other => Err(CatalogueError::Unknown { what: "billing_interval", value: other.to_owned() }),
    }
}

/// Every plan, in tier order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    plans: Vec<Plan>,
}

impl Catalogue {
    /// A catalogue of `plans` (sorted FREE, PRO, EDUCATOR).
    pub fn new(mut plans: Vec<Plan>) -> Self {
        plans.sort_by_key(|plan| plan.tier);
        Self { plans }
    }

    /// The plans, FREE first.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The plan of `tier`, if loaded.
    pub fn plan(&self, tier: Tier) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.tier == tier)
    }

    /// Every feature any plan names, sorted.
    pub fn known_features(&self) -> BTreeSet<&str> {
        self.plans.iter().flat_map(|plan| plan.entitlements.keys().map(String::as_str)).collect()
    }

    /// Whether any plan names `feature`.
    pub fn knows(&self, feature: &str) -> bool {
        self.plans.iter().any(|plan| plan.entitlements.contains_key(feature))
    }

    /// What `tier` allows of `feature` (not included if the plan is absent).
    pub fn limit(&self, tier: Tier, feature: &str) -> Limit {
        self.plan(tier).and_then(|plan| plan.entitlements.get(feature).copied()).unwrap_or(Limit::NotIncluded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(tier: Tier, entitlements: serde_json::Value) -> Plan {
        Plan {
            tier,
            name: tier.as_str().into(),
            description: String::new(),
            stripe_price_id: None,
            price_amount_minor: 0,
            currency: "USD".into(),
            interval_months: 1,
            entitlements: parse_entitlements(&entitlements).unwrap_or_default(),
        }
    }

    #[test]
    fn entitlements_parse_limits_unlimited_and_absent_features() {
        let parsed = parse_entitlements(&json!({"ai_generation": 20, "transpose": null, "audio_export": 0}));
        let parsed = parsed.unwrap_or_default();
        assert_eq!(parsed.get("ai_generation"), Some(&Limit::Limited(20)));
        assert_eq!(parsed.get("transpose"), Some(&Limit::Unlimited));
        assert_eq!(parsed.get("audio_export"), Some(&Limit::NotIncluded));
    }

    #[test]
    fn bad_entitlements_are_refused() {
        assert_eq!(parse_entitlements(&json!([1])), Err(CatalogueError::NotAnObject));
        assert_eq!(parse_entitlements(&json!({"x": -1})), Err(CatalogueError::BadLimit("x".into())));
        assert_eq!(parse_entitlements(&json!({"x": 1.5})), Err(CatalogueError::BadLimit("x".into())));
        assert_eq!(parse_entitlements(&json!({"x": "5"})), Err(CatalogueError::BadLimit("x".into())));
        assert_eq!(parse_entitlements(&json!({"Bad-Name": 1})), Err(CatalogueError::BadFeature("Bad-Name".into())));
        assert_eq!(interval_months("week").ok(), None);
    }

    #[test]
    fn the_seeded_catalogue_parses() {
        let text = include_str!("../../../../seeds/billing/plans.json");
        let file: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let plans = file["plans"].as_array().cloned().unwrap_or_default();
        assert_eq!(plans.len(), 3);
        for plan in plans {
            assert!(parse_entitlements(&plan["entitlements"]).is_ok(), "{plan}");
        }
    }

    #[test]
    fn a_feature_a_plan_does_not_name_is_not_included() {
        let catalogue = Catalogue::new(vec![
            plan(Tier::Pro, json!({"audio_export": 200, "transpose": null})),
            plan(Tier::Free, json!({"transpose": 10})),
        ]);
        assert_eq!(catalogue.plans().first().map(|p| p.tier), Some(Tier::Free));
        assert_eq!(catalogue.known_features().into_iter().collect::<Vec<_>>(), ["audio_export", "transpose"]);
        assert_eq!(catalogue.limit(Tier::Free, "audio_export"), Limit::NotIncluded);
        assert_eq!(catalogue.limit(Tier::Free, "transpose"), Limit::Limited(10));
        assert_eq!(catalogue.limit(Tier::Pro, "transpose"), Limit::Unlimited);
        assert_eq!(catalogue.limit(Tier::Educator, "transpose"), Limit::NotIncluded);
        assert!(!catalogue.knows("ai_generation"));
    }
}
