//! Diesel queries over `jazz_billing`. Every function takes the caller's
//! `&mut AsyncPgConnection`: the handler owns the transaction (and writes
//! the audit entry in it). No business rules here; those are in `domain/`.

pub mod erasure;
pub mod models;
pub mod plans;
pub mod stripe_events;
pub mod stripe_keys;
pub mod subscriptions;
pub mod usage;
