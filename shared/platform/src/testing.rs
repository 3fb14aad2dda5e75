//! Test support: every test gets its own database, copied from a template
//! migrated once per service (`CREATE DATABASE … TEMPLATE`), so tests run
//! in parallel against real PostgreSQL without seeing each other's rows.
//!
//! Databases are named `jazz_test_<service>_<ulid>`; `make test` drops the
//! leftovers of earlier runs before it starts (see `scripts/drop-test-dbs.sh`).

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::config::{DEFAULT_POSTGRES_BASE, ServiceName};
use crate::db::{ServiceMigrations, create_database_if_missing, quote_ident};

/// The server tests use: `TEST_POSTGRES_URL` (a server URL without a
/// database name), else the local server.
pub fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_BASE.to_owned())
}

/// A database of one's own for one test.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// Its name.
    pub name: String,
    /// Its full URL.
    pub url: String,
}

impl TestDatabase {
    /// A new database with `service`'s schema, copied from its template.
    pub async fn migrated(service: ServiceName, migrations: ServiceMigrations) -> anyhow::Result<Self> {
        let name = format!("jazz_test_{}_{}", service.as_str(), ulid::Ulid::generate().to_string().to_lowercase());
        with_template_lock(service, async {
            let template = ensure_template(service, migrations).await?;
            admin_execute(&format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(&template))).await
        })
        .await?;
        Ok(Self { url: format!("{}/{name}", server_url()), name })
    }

    /// A new, empty database (for migration tests).
    pub async fn empty(label: &str) -> anyhow::Result<Self> {
        let name = format!("jazz_test_{label}_{}", ulid::Ulid::generate().to_string().to_lowercase());
        admin_execute(&format!("CREATE DATABASE {}", quote_ident(&name))).await?;
        Ok(Self { url: format!("{}/{name}", server_url()), name })
    }

    /// A connection to it.
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        Ok(AsyncPgConnection::establish(&self.url).await?)
    }

    /// Drops it (tests that care call this; `make test` sweeps the rest).
    pub async fn drop_database(self) -> anyhow::Result<()> {
        admin_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name))).await
    }
}

async fn admin_execute(statement: &str) -> anyhow::Result<()> {
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await?;
    diesel::sql_query(statement).execute(&mut admin).await?;
    Ok(())
}

/// Runs `work` holding a cluster-wide advisory lock for `service`'s
/// template: while one process migrates the template, no other copies it
/// (a copy fails while anyone is connected to the source).
async fn with_template_lock<T>(
    service: ServiceName,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await?;
    let lock_key = 0x6a61_7a7a_i64 * 100_000 + i64::from(service.default_port());
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock_key})")).execute(&mut admin).await?;
    let result = work.await;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock_key})")).execute(&mut admin).await?;
    result
}

/// Which templates this process has already brought up to date.
static TEMPLATES_READY: std::sync::Mutex<Vec<ServiceName>> = std::sync::Mutex::new(Vec::new());

/// Creates `jazz_template_<service>` if missing and applies pending
/// migrations to it, once per process. Call under [`with_template_lock`].
async fn ensure_template(service: ServiceName, migrations: ServiceMigrations) -> anyhow::Result<String> {
    let name = format!("jazz_template_{}", service.as_str());
    let ready = TEMPLATES_READY.lock().map(|done| done.contains(&service)).unwrap_or(false);
    if !ready {
        let url = format!("{}/{name}", server_url());
        create_database_if_missing(&url).await?;
        migrations.run_pending(&url).await?;
        if let Ok(mut done) = TEMPLATES_READY.lock() {
            done.push(service);
        }
    }
    Ok(name)
}
