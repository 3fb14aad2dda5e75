//! Diesel queries over identity's tables. Every function takes
//! `&mut AsyncPgConnection`, so the handler owns the transaction (and writes
//! the audit entry in it). No business rules here beyond the SQL filters
//! that keep other users' and dead rows out.

pub mod accounts;
pub mod attempts;
pub mod flags;
pub mod models;
pub mod purge;
pub mod sessions;
pub mod tiers;
pub mod tokens;
pub mod users;
