//! The progress service: Practice sessions, progress records, summaries, recommendations, review queue, metrics.
//!
//! `build` turns a [`ServiceConfig`] into a bound [`Application`]; `main.rs`
//! and the tests both start the service through it. Handlers live in `api/`,
//! tables in `schema.rs` (the platform's tables are in `jazz_platform::schema`).

pub mod api;
pub mod domain;
pub mod error;
pub mod metrics_job;
pub mod peers;
pub mod schema;
pub mod store;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use jazz_platform::{Application, ServiceConfig, ServiceContext, ServiceMigrations};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use jazz_contract::jazz::progress::v1::metrics_admin_service_server::MetricsAdminServiceServer;
use jazz_contract::jazz::progress::v1::practice_service_server::PracticeServiceServer;
use jazz_contract::jazz::progress::v1::progress_internal_service_server::ProgressInternalServiceServer;
use jazz_contract::jazz::progress::v1::progress_service_server::ProgressServiceServer;

/// This service's own migrations (`migrations/progress`).
pub static OWN_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/progress");

/// The platform's migrations followed by this service's, as one history.
pub const MIGRATIONS: ServiceMigrations = ServiceMigrations { service: &OWN_MIGRATIONS };

/// Tables range-partitioned by month whose partitions are made ahead.
pub const PARTITIONED_TABLES: &[&str] = &["audit_logs", "system_metrics"];

/// Rows the erasure check (`jazz_platform::residue::find`) skips although
/// they name a purged user: none (audit rows stay with the user cleared;
/// the inbox `processed_events` holds event ids only). See
/// docs/reliability.md, "What the erasure check keeps on purpose".
pub const RESIDUE_KEPT: &[jazz_platform::residue::Kept] = &[];

/// Builds the service from `config`: migrations checked (or applied), pool
/// open, listener bound. Serve it with [`Application::run_until_stopped`].
pub async fn build(config: ServiceConfig) -> anyhow::Result<Application> {
    let context = ServiceContext::prepare(config, MIGRATIONS, PARTITIONED_TABLES).await?;
    metrics_job::spawn(metrics_job::MetricsJob::new(
        context.pool.clone(),
        peers::Peers::new(&context.config.peers, &context.principal_key),
    ));
    Application::bind(&context, routes(&context), health_names()).await
}

/// Every gRPC service of progress, each behind the principal check.
pub fn routes(context: &ServiceContext) -> Routes {
    let interceptor = &context.interceptor;
    let max_message = context.config.limits.max_decoding_message_size;
    let peers = peers::Peers::new(&context.config.peers, &context.principal_key);
    Routes::default()
        .add_service(InterceptedService::new(
            PracticeServiceServer::new(api::PracticeApi::new(context.clone(), peers.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            ProgressServiceServer::new(api::ProgressApi::new(context.clone(), peers.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            ProgressInternalServiceServer::new(api::ProgressInternalApi::new(context.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            MetricsAdminServiceServer::new(api::MetricsAdminApi::new(context.clone(), peers.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
}

/// The names health reports on.
pub fn health_names() -> Vec<&'static str> {
    vec![
        PracticeServiceServer::<api::PracticeApi>::NAME,
        ProgressServiceServer::<api::ProgressApi>::NAME,
        ProgressInternalServiceServer::<api::ProgressInternalApi>::NAME,
        MetricsAdminServiceServer::<api::MetricsAdminApi>::NAME,
    ]
}
