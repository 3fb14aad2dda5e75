//! The database pool and the migration runner.
//!
//! Every service database holds two migration sets: the platform's (audit
//! log, outbox, inbox, idempotency keys, partition helpers; under
//! `migrations/platform`) and the service's own (`migrations/<service>`).
//! [`ServiceMigrations`] presents both as one diesel migration source so
//! that running, listing and reverting see one ordered history.

use std::time::Duration;

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::ExposeSecret;

use crate::config::DatabaseConfig;

/// A pool of async PostgreSQL connections.
pub type DbPool = Pool<AsyncPgConnection>;

/// A connection checked out of a [`DbPool`].
pub type PooledConn = deadpool::managed::Object<AsyncDieselConnectionManager<AsyncPgConnection>>;

/// The platform tables every service database has (audit log, outbox,
/// inbox, idempotency keys) and the partition helpers.
pub static PLATFORM_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/platform");

/// Builds the pool. Connections are recycled with the fast method (no
/// `SELECT 1` per checkout, which cost 35–45% of point-read throughput);
/// the health task notices a dead server instead. Each new connection
/// turns PostgreSQL's JIT off: the planner's cost estimates of the learning
/// loop's lateral queries cross `jit_above_cost`, and compiling took ~450 ms
/// of a 600 ms query measured at 100k records (an OLTP service never wins
/// it back). Each also has PostgreSQL check every second that its client
/// is still there while a statement runs (PostgreSQL 14+): a call that
/// times out drops its connection, and without the check the statement
/// goes on waiting (on a lock, say) until it finishes, holding a server
/// backend (`make chaos`, scenario 4: a pool's worth per wave).
///
/// And each plans its prepared statements once (`plan_cache_mode =
/// force_generic_plan`, unless the config says `auto`). Left to itself PostgreSQL plans a statement again
/// on every execution whenever the generic plan's estimate is above the
/// custom plans' (a `LIMIT $n`, an `= ANY($1)`): GetContent and the public
/// feeds spent half of PostgreSQL's CPU in the planner (`make bench`,
/// decision 42). A query whose best plan depends on its values asks for
/// custom plans itself ([`CUSTOM_PLANS`]).
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    let plan_cache_mode = config.plan_cache_mode.as_str();
    manager_config.custom_setup = Box::new(move |url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await?;
            diesel::sql_query(
                "SELECT set_config('jit', 'off', false), \
                        set_config('client_connection_check_interval', '1000', false), \
                        set_config('plan_cache_mode', $1, false)",
            )
            .bind::<diesel::sql_types::Text, _>(plan_cache_mode)
            .execute(&mut conn)
            .await
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(config.url.expose_secret(), manager_config);
    let pool = Pool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?;
    Ok(pool)
}

/// Run first in a transaction, this plans its statements for their values
/// on every execution: for a query whose best plan depends on them, as a
/// full-text search's does on how common its words are.
pub const CUSTOM_PLANS: &str = "SET LOCAL plan_cache_mode = force_custom_plan";

/// Runs `SELECT 1` on a pooled connection: is the database reachable?
pub async fn ping(pool: &DbPool) -> bool {
    let check = async {
        let mut conn = pool.get().await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), check).await, Ok(Some(_)))
}

/// The platform migrations followed by one service's own, as one source.
#[derive(Clone, Copy)]
pub struct ServiceMigrations {
    /// The service's own migration set.
    pub service: &'static EmbeddedMigrations,
}

impl MigrationSource<Pg> for ServiceMigrations {
    /// The platform set, then the service's: one history with one version
    /// space. A version in both would be applied once and the other
    /// migration silently skipped, so a repeat is refused.
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<Pg>>>> {
        let mut all = MigrationSource::<Pg>::migrations(&PLATFORM_MIGRATIONS)?;
        all.extend(MigrationSource::<Pg>::migrations(self.service)?);
        let mut versions = std::collections::HashSet::new();
        for migration in &all {
            let version = migration.name().version().to_string();
            if !versions.insert(version.clone()) {
                return Err(format!(
                    "migration version {version} is used twice (the platform and service sets share one version space)"
                )
                .into());
            }
        }
        Ok(all)
    }
}

type BlockingPgConnection = AsyncConnectionWrapper<AsyncPgConnection>;

/// Runs `work` with a blocking migration connection on a blocking thread
/// (diesel's migration harness is synchronous).
async fn with_blocking_conn<T, F>(url: &str, work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut BlockingPgConnection) -> anyhow::Result<T> + Send + 'static,
{
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = <BlockingPgConnection as diesel::Connection>::establish(&url)?;
        work(&mut conn)
    })
    .await?
}

impl ServiceMigrations {
    /// Applies every pending migration; returns the versions applied.
    pub async fn run_pending(self, url: &str) -> anyhow::Result<Vec<String>> {
        with_blocking_conn(url, move |conn| {
            let applied = conn.run_pending_migrations(self).map_err(anyhow::Error::from_boxed)?;
            Ok(applied.iter().map(ToString::to_string).collect())
        })
        .await
    }

    /// The versions not yet applied to the database at `url`.
    pub async fn pending(self, url: &str) -> anyhow::Result<Vec<String>> {
        with_blocking_conn(url, move |conn| {
            let pending = conn.pending_migrations(self).map_err(anyhow::Error::from_boxed)?;
            Ok(pending.iter().map(|m| m.name().to_string()).collect())
        })
        .await
    }

    /// Reverts every applied migration, newest first (tests and
    /// `migrate --revert-all`); returns the versions reverted.
    pub async fn revert_all(self, url: &str) -> anyhow::Result<Vec<String>> {
        with_blocking_conn(url, move |conn| {
            let reverted = conn.revert_all_migrations(self).map_err(anyhow::Error::from_boxed)?;
            Ok(reverted.iter().map(ToString::to_string).collect())
        })
        .await
    }

    /// Refuses to go on when the database is behind, unless `migrate` is
    /// set, in which case the pending migrations are applied first.
    pub async fn ensure_current(self, url: &str, migrate: bool) -> anyhow::Result<()> {
        let pending = self.pending(url).await?;
        if pending.is_empty() {
            return Ok(());
        }
        if !migrate {
            anyhow::bail!(
                "the database is behind by {} migration(s) ({}); run `<service> migrate` \
                 (or `make migrate`), or start with MIGRATE_ON_START=true",
                pending.len(),
                pending.join(", ")
            );
        }
        let applied = self.run_pending(url).await?;
        tracing::info!(count = applied.len(), "applied pending migrations");
        Ok(())
    }
}

/// Creates the database named in `url` when it does not exist, connecting
/// to the server's `postgres` database to do so. Returns whether it made it.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<bool> {
    let (server, name) = split_database_url(url)?;
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres")).await?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<diesel::sql_types::Text, _>(&name)
        .get_result(&mut admin)
        .await?;
    if found.exists {
        return Ok(false);
    }
    let statement = format!("CREATE DATABASE {}", quote_ident(&name));
    match diesel::sql_query(statement).execute(&mut admin).await {
        Ok(_) => Ok(true),
        // Another process created it between our check and our create.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) if e.to_string().contains("already exists") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Splits `postgres://…/name?opts` into (`postgres://…`, `name`).
pub fn split_database_url(url: &str) -> anyhow::Result<(String, String)> {
    let without_query = url.split('?').next().unwrap_or(url);
    let (server, name) = without_query
        .rsplit_once('/')
        .filter(|(server, name)| server.contains("://") && !server.ends_with('/') && !name.is_empty())
        .ok_or_else(|| anyhow::anyhow!("database URL has no database name"))?;
    Ok((server.to_owned(), name.to_owned()))
}

/// Quotes a Postgres identifier (doubling embedded quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_split_into_server_and_name() {
        let split = split_database_url("postgres://postgres@127.0.0.1:5432/jazz_identity?sslmode=disable").ok();
        assert_eq!(split, Some(("postgres://postgres@127.0.0.1:5432".into(), "jazz_identity".into())));
        assert!(split_database_url("postgres://127.0.0.1:5432").is_err());
        assert!(split_database_url("postgres://127.0.0.1:5432/").is_err());
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }
}
