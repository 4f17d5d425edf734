//! atone's API and event schema, generated from `proto/atone/v1`.
//!
//! [`convert`] and [`envelope`] translate between atone's own types and the protobuf ones,
//! in one place. Every crate takes `tonic` and `prost` from here so the whole workspace uses one version.

pub mod codec;
pub mod convert;
pub mod envelope;
mod events;

pub use prost;
pub use prost_types;
pub use tonic;

/// `atone.v1`: the services, the read-model messages and the events.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("atone.v1");
}

/// The encoded `FileDescriptorSet` of every atone proto and its imports, for server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/atone_descriptor.bin"));
