//! Diesel queries. Each takes `&mut AsyncPgConnection`; the handler owns
//! the transaction (and writes the audit row in it).

pub mod models;
pub mod practice;
pub mod progress;
