//! The plan catalogue, kept in memory between changes (issue 16).
//!
//! Every billing call needs the catalogue; ListPlans needs nothing else.
//! Reading three rows per call made ListPlans a PostgreSQL round trip, so
//! the catalogue is kept until it changes: a trigger on `plans` sends
//! `NOTIFY plans_changed` (a reseed, an operator's `UPDATE`), and each
//! billing process listens on a connection of its own and drops what it
//! kept. A copy is kept only while that listener is subscribed (a lost
//! connection means reading per call until it is back), and never longer
//! than [`MAX_AGE`], in case a connection dies without anyone noticing.
//! Money-moving paths (checkout, cancel, Stripe's webhooks) read the table
//! in their own transaction instead ([`load`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use futures_util::StreamExt as _;
use jazz_platform::db::DbPool;
use secrecy::{ExposeSecret as _, SecretString};

use crate::domain::catalogue::{Catalogue, CatalogueError, Plan, interval_months, parse_entitlements};
use crate::domain::tier::Tier;
use crate::error::BillingError;
use crate::store::models::PlanRow;
use crate::store::plans;

/// The channel the `plans` trigger notifies.
pub const CHANNEL: &str = "plans_changed";

/// The longest a kept catalogue is served without reading the table.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// How long the listener waits before connecting again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The catalogue as stored now, read from the table.
pub async fn load(conn: &mut AsyncPgConnection) -> Result<Catalogue, BillingError> {
    let rows = plans::all(conn).await?;
    let plans = rows.into_iter().map(plan).collect::<Result<Vec<_>, _>>()?;
    Ok(Catalogue::new(plans))
}

fn plan(row: PlanRow) -> Result<Plan, CatalogueError> {
    Ok(Plan {
        tier: Tier::parse(&row.tier).ok_or(CatalogueError::Unknown { what: "tier", value: row.tier.clone() })?,
        interval_months: interval_months(&row.billing_interval)?,
        entitlements: parse_entitlements(&row.entitlements)?,
        name: row.name,
        description: row.description.unwrap_or_default(),
        stripe_price_id: row.stripe_price_id,
        price_amount_minor: row.price_amount_minor,
        currency: row.currency,
    })
}

/// The catalogue, kept between changes. Cheap to clone (shared).
#[derive(Clone)]
pub struct Plans {
    shared: Arc<Shared>,
}

struct Shared {
    /// Moves on every notification and every (re)subscription: a copy read
    /// under an older generation is not kept.
    generation: AtomicU64,
    /// True while the listener is subscribed.
    listening: AtomicBool,
    kept: RwLock<Option<Kept>>,
}

struct Kept {
    generation: u64,
    read_at: Instant,
    catalogue: Arc<Catalogue>,
}

impl Plans {
    /// Keeps the catalogue of the database at `url`, listening for changes
    /// on a connection of its own, a task that ends once every clone of
    /// this is dropped and its connection is gone.
    pub fn watch(url: SecretString) -> Self {
        let plans = Self::uncached();
        let shared = Arc::downgrade(&plans.shared);
        tokio::spawn(async move { listen(&shared, &url).await });
        plans
    }

    /// Reads the table on every call.
    pub fn uncached() -> Self {
        Self {
            shared: Arc::new(Shared {
                generation: AtomicU64::new(0),
                listening: AtomicBool::new(false),
                kept: RwLock::new(None),
            }),
        }
    }

    /// The catalogue, reading the table on `conn` only when nothing is kept.
    pub async fn current(&self, conn: &mut AsyncPgConnection) -> Result<Arc<Catalogue>, BillingError> {
        if let Some(kept) = self.kept() {
            return Ok(kept);
        }
        let generation = self.shared.generation.load(Ordering::Acquire);
        let catalogue = Arc::new(load(conn).await?);
        self.keep(generation, &catalogue);
        Ok(catalogue)
    }

    /// [`Self::current`], checking a connection out of `pool` only to read.
    pub async fn current_pooled(&self, pool: &DbPool) -> Result<Arc<Catalogue>, BillingError> {
        match self.kept() {
            Some(kept) => Ok(kept),
            None => {
                let mut conn = pool.get().await?;
                self.current(&mut conn).await
            }
        }
    }

    fn kept(&self) -> Option<Arc<Catalogue>> {
        if !self.shared.listening.load(Ordering::Acquire) {
            return None;
        }
        let generation = self.shared.generation.load(Ordering::Acquire);
        let kept = self.shared.kept.read().ok()?;
        kept.as_ref()
            .filter(|k| k.generation == generation && k.read_at.elapsed() < MAX_AGE)
            .map(|k| k.catalogue.clone())
    }

    fn keep(&self, read_under: u64, catalogue: &Arc<Catalogue>) {
        if !self.shared.listening.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut kept) = self.shared.kept.write()
            && self.shared.generation.load(Ordering::Acquire) == read_under
        {
            *kept = Some(Kept { generation: read_under, read_at: Instant::now(), catalogue: catalogue.clone() });
        }
    }
}

impl Shared {
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Subscribes to [`CHANNEL`] and drops the kept catalogue on every
/// notification; reconnects when the connection is lost.
async fn listen(shared: &Weak<Shared>, url: &SecretString) {
    loop {
        let subscribed = subscribe(url.expose_secret()).await;
        let Some(plans) = shared.upgrade() else { return };
        match subscribed {
            Ok(mut conn) => {
                plans.changed();
                plans.listening.store(true, Ordering::Release);
                drop(plans);
                let mut notifications = std::pin::pin!(conn.notifications_stream());
                while let Some(notification) = notifications.next().await {
                    let Some(plans) = shared.upgrade() else { return };
                    plans.changed();
                    if let Err(error) = notification {
                        tracing::warn!(%error, "plan catalogue listener failed");
                        break;
                    }
                }
                let Some(plans) = shared.upgrade() else { return };
                plans.listening.store(false, Ordering::Release);
                plans.changed();
                tracing::warn!("plan catalogue listener lost its connection; reading plans per call until it is back");
            }
            Err(error) => tracing::warn!(%error, "plan catalogue listener cannot subscribe"),
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn subscribe(url: &str) -> anyhow::Result<AsyncPgConnection> {
    use diesel_async::RunQueryDsl as _;
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await?;
    Ok(conn)
}
