//! Tiers and statuses as stored (upper-case text, see `docs/database.md`)
//! and in the API, and which tier's entitlements a subscription gets.

use jazz_contract::jazz::common::v1::{SubscriptionStatus, SubscriptionTier};

/// A plan tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// The free plan every user starts on.
    Free,
    /// The paid plan for learners.
    Pro,
    /// The paid plan for teachers.
    Educator,
}

impl Tier {
    /// Every tier, in catalogue order (FREE first).
    pub const ALL: [Tier; 3] = [Tier::Free, Tier::Pro, Tier::Educator];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "FREE",
            Tier::Pro => "PRO",
            Tier::Educator => "EDUCATOR",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|tier| tier.as_str() == text)
    }

    /// The API value.
    pub fn to_api(self) -> SubscriptionTier {
        match self {
            Tier::Free => SubscriptionTier::Free,
            Tier::Pro => SubscriptionTier::Pro,
            Tier::Educator => SubscriptionTier::Educator,
        }
    }

    /// Whether the tier is paid for.
    pub fn is_paid(self) -> bool {
        self != Tier::Free
    }
}

/// A subscription status, as Stripe reports it (the seed's six).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Paid up, or the FREE plan.
    Active,
    /// No subscription in force.
    Inactive,
    /// A payment failed; Stripe retries; paid entitlements stay.
    PastDue,
    /// The paid subscription ended.
    Canceled,
    /// Stripe gave up retrying.
    Unpaid,
    /// In a free trial of a paid tier.
    Trialing,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 6] =
        [Status::Active, Status::Inactive, Status::PastDue, Status::Canceled, Status::Unpaid, Status::Trialing];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Inactive => "INACTIVE",
            Status::PastDue => "PAST_DUE",
            Status::Canceled => "CANCELED",
            Status::Unpaid => "UNPAID",
            Status::Trialing => "TRIALING",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// The API value.
    pub fn to_api(self) -> SubscriptionStatus {
        match self {
            Status::Active => SubscriptionStatus::Active,
            Status::Inactive => SubscriptionStatus::Inactive,
            Status::PastDue => SubscriptionStatus::PastDue,
            Status::Canceled => SubscriptionStatus::Canceled,
            Status::Unpaid => SubscriptionStatus::Unpaid,
            Status::Trialing => SubscriptionStatus::Trialing,
        }
    }

    /// Whether a paid tier's entitlements apply in this status
    /// (`enums.proto`: ACTIVE, PAST_DUE and TRIALING do).
    pub fn grants_paid_entitlements(self) -> bool {
        match self {
            Status::Active | Status::PastDue | Status::Trialing => true,
            Status::Inactive | Status::Canceled | Status::Unpaid => false,
        }
    }
}

/// The tier whose entitlements apply: the paid tier while its status grants
/// it, FREE otherwise (PRO + CANCELED → FREE).
pub fn effective_tier(tier: Tier, status: Status) -> Tier {
    if tier.is_paid() && status.grants_paid_entitlements() { tier } else { Tier::Free }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_round_trip() {
        for tier in Tier::ALL {
            assert_eq!(Tier::parse(tier.as_str()), Some(tier));
        }
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Tier::parse("free"), None);
        assert_eq!(Status::parse("DELETED"), None);
    }

    #[test]
    fn only_live_paid_statuses_keep_the_paid_tier() {
        assert_eq!(effective_tier(Tier::Pro, Status::Active), Tier::Pro);
        assert_eq!(effective_tier(Tier::Pro, Status::PastDue), Tier::Pro);
        assert_eq!(effective_tier(Tier::Educator, Status::Trialing), Tier::Educator);
        for status in [Status::Canceled, Status::Unpaid, Status::Inactive] {
            assert_eq!(effective_tier(Tier::Pro, status), Tier::Free);
        }
        assert_eq!(effective_tier(Tier::Free, Status::Active), Tier::Free);
    }
}
