//! The life cycle every data-owning service shares: check migrations, open
//! the pool, start background jobs, bind, serve until told to stop.
//!
//! A service crate supplies only its routes; `main.rs` is a call to
//! [`crate::cli::run`], and tests call the service's `build` with a config
//! on port 0 and serve it in-process.

use std::future::Future;
use std::net::SocketAddr;

use secrecy::ExposeSecret;
use tonic::service::Routes;

use crate::config::ServiceConfig;
use crate::db::{DbPool, ServiceMigrations};
use crate::principal::{PrincipalInterceptor, PrincipalKey};
use crate::server::{HealthProbe, ServeSpec, ServiceHost};

/// What a data service's handlers are built from.
#[derive(Clone)]
pub struct ServiceContext {
    /// The service's own database.
    pub pool: DbPool,
    /// Signs principals for calls to peers.
    pub principal_key: PrincipalKey,
    /// Verifies principals on incoming calls; wrap every gRPC service in it.
    pub interceptor: PrincipalInterceptor,
    /// The configuration it started with.
    pub config: ServiceConfig,
}

impl ServiceContext {
    /// Brings the database up to date (or refuses, see
    /// [`ServiceMigrations::ensure_current`]), opens the pool and starts the
    /// partition job for `partitioned_tables` and the retention of the
    /// platform tables ([`crate::retention`]).
    pub async fn prepare(
        config: ServiceConfig,
        migrations: ServiceMigrations,
        partitioned_tables: &'static [&'static str],
    ) -> anyhow::Result<Self> {
        migrations.ensure_current(config.database.url.expose_secret(), config.migrate_on_start).await?;
        let pool = crate::db::pool(&config.database)?;
        crate::partitions::spawn_maintenance(pool.clone(), partitioned_tables);
        crate::metrics::spawn_pool_gauges(config.service, pool.clone());
        crate::retention::spawn(pool.clone(), crate::retention::Retention::from_env()?);
        let principal_key = PrincipalKey::new(config.principal_secret.clone());
        Ok(Self { pool, interceptor: PrincipalInterceptor::new(principal_key.clone()), principal_key, config })
    }
}

/// A built service, bound and ready to serve.
pub struct Application {
    host: ServiceHost,
    spec: ServeSpec,
}

impl Application {
    /// Binds the configured address and prepares `routes` with health
    /// (following `pool`) and reflection of the whole contract.
    pub async fn bind(
        context: &ServiceContext,
        routes: Routes,
        health_names: Vec<&'static str>,
    ) -> anyhow::Result<Self> {
        let host = ServiceHost::bind(&context.config.listen, context.config.limits.clone())
            .await?
            .serving_as(context.config.service);
        let spec = ServeSpec {
            routes,
            health_names,
            reflection_descriptors: jazz_contract::FILE_DESCRIPTOR_SET.to_vec(),
            reflection_services: None,
            probe: HealthProbe::Database(context.pool.clone()),
            accept_http1: false,
        };
        Ok(Self { host, spec })
    }

    /// Wraps an already bound host and spec (the gateway).
    pub fn from_parts(host: ServiceHost, spec: ServeSpec) -> Self {
        Self { host, spec }
    }

    /// The address actually bound (tests bind port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.host.local_addr().port()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        tracing::info!(addr = %self.host.local_addr(), "serving");
        self.host.serve(self.spec, shutdown).await
    }
}
