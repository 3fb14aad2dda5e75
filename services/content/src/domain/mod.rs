//! Pure logic, no I/O: request parameters → engine requests, the stored
//! parameters JSON, field rules, list filters, signed page tokens and
//! JSON ↔ `google.protobuf.Struct`.

pub mod expected;
pub mod fields;
pub mod filter;
pub mod params;
pub mod vocab;
