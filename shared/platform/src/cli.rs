//! The command line every service binary shares:
//!
//! ```text
//! <service>                 serve (refuses to start if the database is behind)
//! <service> serve           the same
//! <service> migrate         create the database if missing, apply migrations
//! <service> migrate --status    list pending migrations
//! <service> seed <dir>      load this service's part of `seeds/` (idempotent)
//! ```

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::ExposeSecret;

use crate::app::Application;
use crate::config::{DatabaseConfig, ServiceConfig, ServiceName};
use crate::db::{DbPool, ServiceMigrations, create_database_if_missing};

/// Runs the binary of `service`: parses arguments, sets up telemetry and
/// either migrates or builds (with `build`) and serves until SIGTERM.
pub async fn run<F, Fut, S, SFut>(
    service: ServiceName,
    migrations: ServiceMigrations,
    build: F,
    seed: S,
) -> anyhow::Result<()>
where
    F: FnOnce(ServiceConfig) -> Fut,
    Fut: Future<Output = anyhow::Result<Application>>,
    S: FnOnce(DbPool, PathBuf) -> SFut,
    SFut: Future<Output = anyhow::Result<()>>,
{
    let _telemetry = crate::telemetry::init(service.as_str())?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => {
            let config = ServiceConfig::from_env(service)?;
            serve_metrics(service).await?;
            let app = build(config).await.with_context(|| format!("starting {}", service.as_str()))?;
            app.run_until_stopped(crate::server::shutdown_signal()).await
        }
        ["migrate"] => migrate(service, migrations).await,
        ["migrate", "--status"] => {
            let url = DatabaseConfig::from_env(service)?.url;
            let pending = migrations.pending(url.expose_secret()).await?;
            println!("{}: {} pending migration(s) {}", service.as_str(), pending.len(), pending.join(" "));
            Ok(())
        }
        ["seed", dir] => {
            let config = DatabaseConfig::from_env(service)?;
            let pool = crate::db::pool(&config)?;
            seed(pool, PathBuf::from(dir)).await.with_context(|| format!("seeding {} from {dir}", service.as_str()))?;
            println!("{}: seeded from {dir}", service.as_str());
            Ok(())
        }
        _ => {
            eprintln!("usage: {} [serve | migrate [--status] | seed <dir>]", service.as_str());
            std::process::exit(2);
        }
    }
}

/// Serves the process's metrics where the environment says
/// ([`crate::metrics::addr_from_env`]); a port that cannot be bound stops
/// the start, as the gRPC port's would.
pub async fn serve_metrics(service: ServiceName) -> anyhow::Result<()> {
    if let Some(addr) = crate::metrics::addr_from_env(service)? {
        crate::metrics::serve(addr).await.with_context(|| format!("serving metrics on {addr}"))?;
    }
    Ok(())
}

/// Creates the service's database when missing and applies its migrations.
pub async fn migrate(service: ServiceName, migrations: ServiceMigrations) -> anyhow::Result<()> {
    let url = DatabaseConfig::from_env(service)?.url;
    let url = url.expose_secret();
    if create_database_if_missing(url).await.context("creating the database")? {
        println!("{}: created database", service.as_str());
    }
    let applied = migrations.run_pending(url).await.context("applying migrations")?;
    println!("{}: applied {} migration(s) {}", service.as_str(), applied.len(), applied.join(" "));
    Ok(())
}

/// The seed step of a service that has no seed data.
pub async fn no_seed(_pool: DbPool, _dir: PathBuf) -> anyhow::Result<()> {
    Ok(())
}

/// Reads and parses one seed file.
pub fn read_seed_file<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
