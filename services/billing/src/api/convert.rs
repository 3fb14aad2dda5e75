//! Domain values and rows → protobuf messages.

use jazz_contract::jazz::billing::v1::{
    BillingInterval, Entitlement, EntitlementKind, FeatureUsage, Plan as ApiPlan, Price, Subscription,
};
use jazz_platform::ids::to_api;

use crate::domain::catalogue::{Catalogue, Limit, Plan};
use crate::domain::quota::remaining;
use crate::domain::subscription::View;

pub use jazz_platform::fields::{from_timestamp, timestamp};

/// The API kind and limit of an entitlement.
pub fn kind(limit: Limit) -> (EntitlementKind, i64) {
    match limit {
        Limit::NotIncluded => (EntitlementKind::NotIncluded, 0),
        Limit::Limited(n) => (EntitlementKind::Limited, n),
        Limit::Unlimited => (EntitlementKind::Unlimited, 0),
    }
}

/// A plan with one entitlement per known feature, sorted by name.
pub fn plan(plan: &Plan, catalogue: &Catalogue) -> ApiPlan {
    let entitlements = catalogue
        .known_features()
        .into_iter()
        .map(|feature| {
            let (kind, limit) = kind(catalogue.limit(plan.tier, feature));
            Entitlement { feature: feature.to_owned(), kind: kind.into(), limit }
        })
        .collect();
    let interval = match (plan.tier.is_paid(), plan.interval_months) {
        (false, _) => BillingInterval::Unspecified,
        (true, 12) => BillingInterval::Year,
        (true, _) => BillingInterval::Month,
    };
    ApiPlan {
        tier: plan.tier.to_api().into(),
        name: plan.name.clone(),
        description: plan.description.clone(),
        price: Some(Price {
            amount_minor: plan.price_amount_minor,
            currency: plan.currency.clone(),
            interval: interval.into(),
            stripe_price_id: plan.stripe_price_id.clone().filter(|_| plan.tier.is_paid()).unwrap_or_default(),
        }),
        // No trial length in the catalogue yet (the Stripe issue adds it).
        trial_days: 0,
        entitlements,
    }
}

/// The API form of a subscription, period as computed at read time.
pub fn subscription(view: &View) -> Subscription {
    let row = &view.row;
    Subscription {
        id: to_api(row.id),
        user_id: to_api(row.user_id),
        tier: view.tier.to_api().into(),
        status: view.status.to_api().into(),
        effective_tier: view.effective.to_api().into(),
        stripe_price_id: row.stripe_price_id.clone().filter(|_| view.tier.is_paid()).unwrap_or_default(),
        current_period_start: Some(timestamp(view.period.start)),
        current_period_end: Some(timestamp(view.period.end)),
        cancel_at_period_end: row.cancel_at_period_end,
        canceled_at: row.canceled_at.map(timestamp),
        trial_start: row.trial_start.map(timestamp),
        trial_end: row.trial_end.map(timestamp),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
    }
}

/// Usage of one feature.
pub fn feature_usage(feature: &str, limit: Limit, used: i64) -> FeatureUsage {
    let (kind, limit_value) = kind(limit);
    FeatureUsage {
        feature: feature.to_owned(),
        kind: kind.into(),
        used,
        limit: limit_value,
        remaining: remaining(limit, used),
        unlimited: limit == Limit::Unlimited,
    }
}
