//! The content service: Generated practice material: generation, library, search, sharing, saving.
//!
//! `build` turns a [`ServiceConfig`] into a bound [`Application`]; `main.rs`
//! and the tests both start the service through it. Handlers live in `api/`,
//! tables in `schema.rs` (the platform's tables are in `jazz_platform::schema`).

pub mod api;
pub mod billing;
pub mod domain;
pub mod error;
pub mod events;
pub mod purge;
pub mod schema;
pub mod store;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use jazz_platform::outbox_admin::OutboxAdminApi;
use jazz_platform::{Application, ServiceConfig, ServiceContext, ServiceMigrations};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use jazz_contract::jazz::content::v1::content_internal_service_server::ContentInternalServiceServer;
use jazz_contract::jazz::content::v1::content_service_server::ContentServiceServer;

/// This service's own migrations (`migrations/content`).
pub static OWN_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/content");

/// The platform's migrations followed by this service's, as one history.
pub const MIGRATIONS: ServiceMigrations = ServiceMigrations { service: &OWN_MIGRATIONS };

/// Tables range-partitioned by month whose partitions are made ahead.
pub const PARTITIONED_TABLES: &[&str] = &["audit_logs"];

/// Rows the erasure check (`jazz_platform::residue::find`) skips although
/// they name a purged user: none (audit rows stay with the user cleared;
/// the inbox `processed_events` holds event ids only). See
/// docs/reliability.md, "What the erasure check keeps on purpose".
pub const RESIDUE_KEPT: &[jazz_platform::residue::Kept] = &[];

/// Builds the service from `config`: migrations checked (or applied), pool
/// open, outbox relay ([`events::ContentEvents`]) and purge of deleted items
/// ([`purge`]) started, listener bound.
/// Serve it with [`Application::run_until_stopped`].
pub async fn build(config: ServiceConfig) -> anyhow::Result<Application> {
    let context = ServiceContext::prepare(config, MIGRATIONS, PARTITIONED_TABLES).await?;
    let events = events::ContentEvents::new(&context.config.peers, context.principal_key.clone());
    // Nothing waits on content's events, so the interval is soon enough: no
    // handler wakes the relay.
    jazz_platform::relay::spawn(
        context.config.service,
        context.pool.clone(),
        std::sync::Arc::new(events),
        context.config.relay_interval,
        jazz_platform::relay::RelayWaker::new(),
    );
    purge::spawn(context.pool.clone(), jazz_platform::retention::Retention::from_env()?.interval);
    Application::bind(&context, routes(&context), health_names()).await
}

/// Every gRPC service of content, each behind the principal check.
pub fn routes(context: &ServiceContext) -> Routes {
    let interceptor = &context.interceptor;
    let max_message = context.config.limits.max_decoding_message_size;
    let quota = billing::Quota::new(&context.config.peers.billing, context.principal_key.clone());
    OutboxAdminApi::route(context, Routes::default())
        .add_service(InterceptedService::new(
            ContentServiceServer::new(api::ContentApi::new(context.clone(), quota))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            ContentInternalServiceServer::new(api::ContentInternalApi::new(context.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
}

/// The names health reports on.
pub fn health_names() -> Vec<&'static str> {
    vec![
        ContentServiceServer::<api::ContentApi>::NAME,
        ContentInternalServiceServer::<api::ContentInternalApi>::NAME,
        OutboxAdminApi::NAME,
    ]
}
