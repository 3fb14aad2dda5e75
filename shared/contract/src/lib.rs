//! The JazzMaster Pro protobuf contract, generated from `proto/` at build
//! time: one module per package (`jazz::identity::v1`, …), with tonic clients
//! and servers, plus the encoded descriptor set that reflection serves.
//!
//! Nothing but generated code lives here; helpers belong in `jazz-platform`.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/jazz_contract.rs"));

/// The encoded `FileDescriptorSet` of the whole contract (public and
/// internal services), for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jazz_descriptor.bin"));
