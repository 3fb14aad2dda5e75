//! `billing seed <dir>`: loads the plan catalogue from
//! `<dir>/billing/plans.json`, upserting by tier, so prices and
//! entitlements live in data, not code.

use std::path::PathBuf;

use anyhow::Context as _;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use jazz_platform::audit::AuditEntry;
use jazz_platform::cli::read_seed_file;
use jazz_platform::{DbPool, Principal};
use serde::Deserialize;

use crate::domain::catalogue::{interval_months, parse_entitlements};
use crate::domain::tier::Tier;
use crate::schema::plans;

#[derive(Deserialize)]
struct PlansFile {
    plans: Vec<SeedPlan>,
}

#[derive(Deserialize, Insertable, AsChangeset)]
#[diesel(table_name = plans)]
struct SeedPlan {
    tier: String,
    name: String,
    description: Option<String>,
    stripe_price_id: Option<String>,
    price_amount_minor: i64,
    currency: String,
    billing_interval: String,
    entitlements: serde_json::Value,
}

/// Refuses a plan the service could not use (checked before any write).
fn check(plan: &SeedPlan) -> anyhow::Result<()> {
    Tier::parse(&plan.tier).with_context(|| format!("unknown tier {:?}", plan.tier))?;
    interval_months(&plan.billing_interval)?;
    parse_entitlements(&plan.entitlements)?;
    Ok(())
}

/// Loads billing's seed file from `dir`.
pub async fn load(pool: DbPool, dir: PathBuf) -> anyhow::Result<()> {
    let file: PlansFile = read_seed_file(&dir.join("billing/plans.json"))?;
    let mut conn = pool.get().await?;
    for plan in &file.plans {
        check(plan).with_context(|| format!("plan {} in {}", plan.tier, dir.display()))?;
    }
    let seeder = Principal::service("seed");
    for plan in file.plans {
        conn.transaction(async |conn| {
            diesel::insert_into(plans::table)
                .values(&plan)
                .on_conflict(plans::tier)
                .do_update()
                .set(&plan)
                .execute(conn)
                .await?;
            let entry = AuditEntry::new(&seeder, "SEED", "plans", Some(plan.tier.clone()));
            entry.with_change(None, Some(plan.entitlements.clone())).write(conn).await
        })
        .await
        .with_context(|| format!("plan {}", plan.tier))?;
    }
    Ok(())
}
