//! The Kinesis adapter (work in progress).
