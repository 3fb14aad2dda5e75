//! Test support: every test gets its own database, copied from a template
//! migrated once (`CREATE DATABASE … TEMPLATE`), so tests run in parallel
//! against real PostgreSQL without seeing each other's rows.
//!
//! A template is named after its service and a digest of its migration
//! set (`jazz_template_<service>_<digest>`), and is only ever seen
//! complete: it is migrated under a private name and renamed into place.
//! Nobody connects to a finished template, so any number of copies run at
//! once with no lock; two processes that build the same template at once
//! both succeed, and the loser of the rename throws its copy away.
//!
//! Databases are named `jazz_test_<service>_<ulid>`; `make test` drops the
//! leftovers of earlier runs before it starts (`deploy/local/drop-test-dbs.sh`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;

use crate::config::{DEFAULT_POSTGRES_BASE, ServiceName};
use crate::db::{ServiceMigrations, quote_ident};

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
        let template = template_of(service, migrations).await?;
        let name = unique_name(service.as_str());
        admin_execute(&format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(&template))).await?;
        Ok(Self { url: format!("{}/{name}", server_url()), name })
    }

    /// A new, empty database (for migration tests).
    pub async fn empty(label: &str) -> anyhow::Result<Self> {
        let name = unique_name(label);
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

fn unique_name(label: &str) -> String {
    format!("jazz_test_{label}_{}", ulid::Ulid::generate().to_string().to_lowercase())
}

async fn admin_execute(statement: &str) -> anyhow::Result<()> {
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await?;
    diesel::sql_query(statement).execute(&mut admin).await?;
    Ok(())
}

/// This process's templates, each made (or found) once.
type Templates = Mutex<HashMap<ServiceName, Arc<OnceCell<String>>>>;
static TEMPLATES: std::sync::LazyLock<Templates> = std::sync::LazyLock::new(Templates::default);

/// The name of `service`'s finished template for `migrations`, made first
/// if no process has made it yet.
async fn template_of(service: ServiceName, migrations: ServiceMigrations) -> anyhow::Result<String> {
    let cell = {
        let mut templates = TEMPLATES.lock().map_err(|_| anyhow::anyhow!("template registry poisoned"))?;
        templates.entry(service).or_default().clone()
    };
    cell.get_or_try_init(|| make_template(service, migrations)).await.cloned()
}

async fn make_template(service: ServiceName, migrations: ServiceMigrations) -> anyhow::Result<String> {
    let name = format!("jazz_template_{}_{}", service.as_str(), migration_digest(migrations)?);
    if database_exists(&name).await? {
        return Ok(name);
    }
    let building = unique_name(&format!("building_{}", service.as_str()));
    admin_execute(&format!("CREATE DATABASE {}", quote_ident(&building))).await?;
    migrations.run_pending(&format!("{}/{building}", server_url())).await?;
    let renamed =
        admin_execute(&format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building), quote_ident(&name))).await;
    if renamed.is_err() {
        // Another process finished the same template first; use theirs.
        admin_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building))).await?;
        anyhow::ensure!(database_exists(&name).await?, "template {name} could not be made");
    }
    Ok(name)
}

async fn database_exists(name: &str) -> anyhow::Result<bool> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut admin = AsyncPgConnection::establish(&format!("{}/postgres", server_url())).await?;
    let found: Count = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(&mut admin)
        .await?;
    Ok(found.n > 0)
}

/// A short digest of the migration set's names, so a template made from
/// another set (another branch, a new migration) is never used.
fn migration_digest(migrations: ServiceMigrations) -> anyhow::Result<String> {
    let all = MigrationSource::<Pg>::migrations(&migrations).map_err(anyhow::Error::from_boxed)?;
    let mut digest = Sha256::new();
    for migration in &all {
        digest.update(migration.name().to_string().as_bytes());
        digest.update(b"\n");
    }
    Ok(digest.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect())
}
