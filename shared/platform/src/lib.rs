//! What every JazzMaster Pro service shares, and nothing domain-specific:
//! configuration, the database pool and migration runner, ULID helpers, the
//! error pattern, server bootstrap (layers, health, reflection), telemetry,
//! the signed principal, and the audit and outbox writers.

pub mod app;
pub mod audit;
pub mod audit_list;
pub mod audit_trail;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod daily;
pub mod db;
pub mod deadline;
pub mod erasure;
pub mod error;
pub mod fields;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod json;
pub mod malformed;
pub mod metrics;
pub mod outbox;
pub mod outbox_admin;
pub mod page_token;
pub mod partitions;
pub mod peer;
pub mod principal;
pub mod relay;
pub mod replay;
pub mod residue;
pub mod retention;
pub mod schema;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod traces;

pub use app::{Application, ServiceContext};
pub use config::{ServiceConfig, ServiceName};
pub use db::{DbPool, ServiceMigrations};
pub use principal::{Principal, PrincipalKey};
