//! A subscription as it stands at one instant: its tier and status, the
//! tier whose entitlements apply, and the period usage counts in. The rule
//! billing's handlers, quota and events all read a subscription by.

use chrono::{DateTime, Utc};

use super::catalogue::{Catalogue, CatalogueError};
use super::period::{Period, calendar_month, period_containing};
use super::tier::{Status, Tier, effective_tier};
use crate::error::BillingError;
use crate::store::models::SubscriptionRow;

/// A subscription as it stands at one instant.
#[derive(Debug, Clone)]
pub struct View {
    /// The row.
    pub row: SubscriptionRow,
    /// Its tier.
    pub tier: Tier,
    /// Its status.
    pub status: Status,
    /// The tier whose entitlements apply.
    pub effective: Tier,
    /// The period usage counts in now.
    pub period: Period,
}

impl View {
    /// Reads `row` at `now`. Periods roll by date arithmetic here, so no
    /// job needs to move them: FREE (and an ended paid plan) count by the
    /// UTC calendar month; a live paid plan by its stored period, rolled on
    /// from its start by the plan's interval once it has passed.
    pub fn at(row: SubscriptionRow, catalogue: &Catalogue, now: DateTime<Utc>) -> Result<Self, BillingError> {
        let tier = Tier::parse(&row.tier).ok_or(CatalogueError::Unknown { what: "tier", value: row.tier.clone() })?;
        let status =
            Status::parse(&row.status).ok_or(CatalogueError::Unknown { what: "status", value: row.status.clone() })?;
        let effective = effective_tier(tier, status);
        let stored = match (row.current_period_start, row.current_period_end) {
            (Some(start), Some(end)) if effective.is_paid() => Some(Period { start, end }),
            _ => None,
        };
        let period = match stored {
            Some(stored) if stored.contains(now) => Some(stored),
            Some(stored) => {
                let months = catalogue.plan(effective).ok_or(BillingError::PlanMissing(effective))?.interval_months;
                period_containing(stored.start, months, now)
            }
            None => calendar_month(now),
        };
        let period = period.ok_or(BillingError::PeriodOutOfRange)?;
        Ok(Self { row, tier, status, effective, period })
    }
}
