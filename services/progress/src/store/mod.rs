//! Diesel queries. Each takes `&mut AsyncPgConnection`; the handler owns
//! the transaction (and writes the audit row in it).

pub mod erasure;
pub mod learning;
pub mod metrics;
pub mod models;
pub mod practice;
pub mod progress;
pub mod scoring;
pub mod summary;
