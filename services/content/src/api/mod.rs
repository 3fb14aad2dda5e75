//! gRPC handlers: decode, validate, call the domain and the store, encode.
//! `content.rs` holds the `ContentService` impl that hands each method to
//! its module; `content_internal.rs` the internal service.

mod content;
mod content_internal;
mod convert;
mod export;
mod feed;
mod generate;
mod library;
mod pages;
mod replay;
mod saved;
mod social;

pub use content::ContentApi;
pub use content_internal::ContentInternalApi;
