//! Diesel queries. Every function takes `&mut AsyncPgConnection`, so the
//! handler owns the transaction (and writes the audit row in it).

pub mod content;
pub mod models;
pub mod saved;
pub mod social;
