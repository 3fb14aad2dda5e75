//! The billing service: Plans, subscriptions, race-free quotas and Stripe.
//!
//! `build` turns a [`ServiceConfig`] into a bound [`Application`]; `main.rs`
//! and the tests both start the service through it. Handlers live in `api/`,
//! tables in `schema.rs` (the platform's tables are in `jazz_platform::schema`).

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod schema;
pub mod seed;
pub mod store;
pub mod stripe;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use jazz_platform::outbox_admin::OutboxAdminApi;
use jazz_platform::{Application, ServiceConfig, ServiceContext, ServiceMigrations};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use jazz_contract::jazz::billing::v1::billing_internal_service_server::BillingInternalServiceServer;
use jazz_contract::jazz::billing::v1::billing_service_server::BillingServiceServer;

/// This service's own migrations (`migrations/billing`).
pub static OWN_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/billing");

/// The platform's migrations followed by this service's, as one history.
pub const MIGRATIONS: ServiceMigrations = ServiceMigrations { service: &OWN_MIGRATIONS };

/// Tables range-partitioned by month whose partitions are made ahead.
pub const PARTITIONED_TABLES: &[&str] = &["audit_logs"];

/// Rows the erasure check (`jazz_platform::residue::find`) skips although
/// they name a purged user: none (audit rows stay with the user cleared;
/// the inbox `processed_events` holds event ids only). See
/// docs/reliability.md, "What the erasure check keeps on purpose".
pub const RESIDUE_KEPT: &[jazz_platform::residue::Kept] = &[];

/// Builds the service from `config` and billing's own settings from the
/// environment ([`config::BillingOptions::from_env`]: Stripe and redirect
/// rules): migrations checked (or applied), pool open, listener bound.
/// Serve it with [`Application::run_until_stopped`].
pub async fn build(config: ServiceConfig) -> anyhow::Result<Application> {
    build_with_options(config, config::BillingOptions::from_env()?).await
}

/// [`build`] with explicit options (tests point Stripe at a stand-in).
/// Starts the outbox relay.
pub async fn build_with_options(config: ServiceConfig, options: config::BillingOptions) -> anyhow::Result<Application> {
    let context = ServiceContext::prepare(config, MIGRATIONS, PARTITIONED_TABLES).await?;
    let payments = Arc::new(api::Payments::new(&options)?);
    let plans = api::Plans::watch(context.config.database.url.clone());
    jazz_platform::relay::spawn(
        context.config.service,
        context.pool.clone(),
        Arc::new(events::BillingEvents::new(&context.config.peers, context.principal_key.clone())),
        context.config.relay_interval,
        jazz_platform::relay::RelayWaker::new(),
    );
    Application::bind(&context, routes(&context, payments, plans), health_names()).await
}

/// Every gRPC service of billing, each behind the principal check.
pub fn routes(context: &ServiceContext, payments: Arc<api::Payments>, plans: api::Plans) -> Routes {
    let interceptor = &context.interceptor;
    let max_message = context.config.limits.max_decoding_message_size;
    OutboxAdminApi::route(context, Routes::default())
        .add_service(InterceptedService::new(
            BillingServiceServer::new(api::BillingApi::new(context.clone(), payments.clone(), plans.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            BillingInternalServiceServer::new(api::BillingInternalApi::new(context.clone(), payments, plans))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
}

/// The names health reports on.
pub fn health_names() -> Vec<&'static str> {
    vec![
        BillingServiceServer::<api::BillingApi>::NAME,
        BillingInternalServiceServer::<api::BillingInternalApi>::NAME,
        OutboxAdminApi::NAME,
    ]
}
