//! Projecting from Kinesis: a coordinator shares the stream's shards between projector
//! processes through leases, and a worker per held shard applies its records.

mod coordinator;
mod worker;

pub use coordinator::{KinesisProjector, KinesisProjectorConfig};
