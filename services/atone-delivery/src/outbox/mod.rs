//! Delivery from the outbox: straight into the projector in the same process (embedded),
//! or onto the Kinesis stream (the relay).

pub mod embedded;
pub mod pack;
pub mod relay;
