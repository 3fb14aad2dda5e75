//! The end-to-end suite: one test binary, one module per area. Every test
//! starts what it needs in-process on real PostgreSQL (its own databases,
//! copied from migrated templates) and talks real gRPC over loopback; see
//! `jazz_e2e` (tests/src/lib.rs) for the harness.
//!
//! One binary instead of one per file: each links all five services, so
//! seventeen binaries cost seventeen links and seventeen test processes.

mod audit_trail;
mod billing;
mod billing_erasure;
mod content;
mod erasure;
mod events;
mod faults;
mod gateway;
mod identity;
mod learner;
mod learning;
mod library;
mod mail;
mod metrics;
mod migrations;
mod observability;
mod oidc;
mod outbox_admin;
mod progress;
mod purge_residue;
mod residue;
mod retention;
mod schema;
mod scoring;
mod shared_limits;
mod stripe;
