//! The identity service: Users, sessions, verification and recovery, OAuth accounts, profiles and feature flags.
//!
//! `build` turns a [`ServiceConfig`] into a bound [`Application`]; `main.rs`
//! and the tests both start the service through it. Handlers live in `api/`,
//! tables in `schema.rs` (the platform's tables are in `jazz_platform::schema`).

pub mod api;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod mail;
pub mod mail_outbox;
pub mod oauth;
pub mod purge;
pub mod schema;
pub mod seed;
pub mod store;

use std::sync::Arc;

use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use jazz_platform::outbox_admin::OutboxAdminApi;
use jazz_platform::relay::RelayWaker;
use jazz_platform::{Application, ServiceConfig, ServiceContext, ServiceMigrations};
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::service::interceptor::InterceptedService;

use jazz_contract::jazz::identity::v1::auth_service_server::AuthServiceServer;
use jazz_contract::jazz::identity::v1::feature_flag_service_server::FeatureFlagServiceServer;
use jazz_contract::jazz::identity::v1::identity_admin_service_server::IdentityAdminServiceServer;
use jazz_contract::jazz::identity::v1::identity_internal_service_server::IdentityInternalServiceServer;
use jazz_contract::jazz::identity::v1::user_service_server::UserServiceServer;

/// This service's own migrations (`migrations/identity`).
pub static OWN_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/identity");

/// The platform's migrations followed by this service's, as one history.
pub const MIGRATIONS: ServiceMigrations = ServiceMigrations { service: &OWN_MIGRATIONS };

/// Tables range-partitioned by month whose partitions are made ahead.
pub const PARTITIONED_TABLES: &[&str] = &["audit_logs"];

/// Rows the erasure check (`jazz_platform::residue::find`) skips although
/// they name a purged user (docs/reliability.md, "What the erasure check
/// keeps on purpose"): only the purge's own `user_purged` event, whose
/// aggregate id and payload carry the ULID so that billing, content and
/// progress learn whom to erase; the outbox retention deletes it 7 days
/// after delivery.
pub const RESIDUE_KEPT: &[jazz_platform::residue::Kept] = &[jazz_platform::residue::Kept {
    table: "outbox_events",
    rows: "event_type = 'identity.user_purged'",
    why: "the purge's own event, which tells the other services whom to erase",
}];

/// Builds the service from `config`: migrations checked (or applied), pool
/// open, listener bound. Serve it with [`Application::run_until_stopped`].
/// Mail goes over SMTP when `SMTP_URL` is set ([`mail::SmtpMailer`]), else it
/// is only logged ([`mail::LogMailer`]).
pub async fn build(config: ServiceConfig) -> anyhow::Result<Application> {
    let mailer: Arc<dyn mail::Mailer> = match mail::SmtpConfig::from_env()? {
        Some(smtp) => Arc::new(mail::SmtpMailer::new(smtp)),
        None => Arc::new(mail::LogMailer),
    };
    build_with(config, mailer).await
}

/// [`build`] with the given mailer (tests pass a [`mail::MemoryMailer`] to
/// read the tokens it would have mailed) and identity's own settings from
/// the environment ([`config::IdentityOptions::from_env`]: the provider-token
/// key, which is refused when malformed, and the purge interval).
pub async fn build_with(config: ServiceConfig, mailer: Arc<dyn mail::Mailer>) -> anyhow::Result<Application> {
    build_with_options(config, mailer, config::IdentityOptions::from_env()?).await
}

/// [`build_with`] with explicit options (tests pass their own provider
/// verifier). Starts the outbox relay and the purge job.
pub async fn build_with_options(
    config: ServiceConfig,
    mailer: Arc<dyn mail::Mailer>,
    options: config::IdentityOptions,
) -> anyhow::Result<Application> {
    let context = ServiceContext::prepare(config, MIGRATIONS, PARTITIONED_TABLES).await?;
    let mail = mail_outbox::MailDelivery::new(context.pool.clone(), mailer);
    let events = events::IdentityEvents::new(&context.config.peers, &context.principal_key, mail);
    let relay = RelayWaker::new();
    jazz_platform::relay::spawn(
        context.config.service,
        context.pool.clone(),
        Arc::new(events),
        context.config.relay_interval,
        relay.clone(),
    );
    purge::spawn(context.pool.clone(), options.purge_interval);
    api::warm_up();
    Application::bind(&context, routes(&context, relay, options), health_names()).await
}

/// Every gRPC service of identity, each behind the principal check; handlers
/// that queue mail wake `relay` after their commit.
pub fn routes(context: &ServiceContext, relay: RelayWaker, options: config::IdentityOptions) -> Routes {
    let interceptor = &context.interceptor;
    let max_message = context.config.limits.max_decoding_message_size;
    OutboxAdminApi::route(context, Routes::default())
        .add_service(InterceptedService::new(
            AuthServiceServer::new(api::AuthApi::new(context.clone(), relay, options))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            UserServiceServer::new(api::UserApi::new(context.clone())).max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            FeatureFlagServiceServer::new(api::FeatureFlagApi::new(context.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            IdentityInternalServiceServer::new(api::IdentityInternalApi::new(context.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
        .add_service(InterceptedService::new(
            IdentityAdminServiceServer::new(api::IdentityAdminApi::new(context.clone()))
                .max_decoding_message_size(max_message),
            interceptor.clone(),
        ))
}

/// The names health reports on.
pub fn health_names() -> Vec<&'static str> {
    vec![
        AuthServiceServer::<api::AuthApi>::NAME,
        UserServiceServer::<api::UserApi>::NAME,
        FeatureFlagServiceServer::<api::FeatureFlagApi>::NAME,
        IdentityInternalServiceServer::<api::IdentityInternalApi>::NAME,
        IdentityAdminServiceServer::<api::IdentityAdminApi>::NAME,
        OutboxAdminApi::NAME,
    ]
}
