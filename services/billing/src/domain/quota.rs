//! The quota decision: given what the plan allows, what was used this
//! period and what is asked for, grant or refuse. The caller makes it under
//! the subscription's row lock, so `used` cannot change meanwhile.

use super::catalogue::Limit;

/// The outcome of a quota check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Granted; `remaining` after the grant (0 when unlimited).
    Granted {
        /// Units left this period after the grant.
        remaining: i64,
        /// The feature is unlimited for the tier.
        unlimited: bool,
    },
    /// The grant would go over the limit.
    Exceeded {
        /// The period's limit.
        limit: i64,
    },
    /// The plan lacks the feature.
    NotIncluded,
}

/// Decides whether `quantity` more units fit.
pub fn decide(limit: Limit, used: i64, quantity: i64) -> Decision {
    match limit {
        Limit::NotIncluded => Decision::NotIncluded,
        Limit::Unlimited => Decision::Granted { remaining: 0, unlimited: true },
        Limit::Limited(limit) => match used.checked_add(quantity) {
            Some(total) if total <= limit => Decision::Granted { remaining: limit - total, unlimited: false },
            _ => Decision::Exceeded { limit },
        },
    }
}

/// `max(limit − used, 0)` for the usage view (0 unless limited).
pub fn remaining(limit: Limit, used: i64) -> i64 {
    match limit {
        Limit::Limited(limit) => limit.saturating_sub(used).max(0),
        Limit::NotIncluded | Limit::Unlimited => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_up_to_the_limit_and_no_further() {
        assert_eq!(decide(Limit::Limited(10), 9, 1), Decision::Granted { remaining: 0, unlimited: false });
        assert_eq!(decide(Limit::Limited(10), 10, 1), Decision::Exceeded { limit: 10 });
        assert_eq!(decide(Limit::Limited(10), 5, 6), Decision::Exceeded { limit: 10 });
        assert_eq!(decide(Limit::Limited(10), i64::MAX, 1), Decision::Exceeded { limit: 10 });
        assert_eq!(decide(Limit::Unlimited, 1_000_000, 1000), Decision::Granted { remaining: 0, unlimited: true });
        assert_eq!(decide(Limit::NotIncluded, 0, 1), Decision::NotIncluded);
    }

    #[test]
    fn remaining_never_goes_negative() {
        assert_eq!(remaining(Limit::Limited(3), 5), 0);
        assert_eq!(remaining(Limit::Limited(3), 1), 2);
        assert_eq!(remaining(Limit::Unlimited, 1), 0);
    }
}
