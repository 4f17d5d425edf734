//! Tests against a real Kinesis emulator (kinesis-mock), one fresh stream per test.
//!
//! ```sh
//! scripts/kinesis-emulator start            # prints http://127.0.0.1:4568
//! ATONE_TEST_KINESIS_ENDPOINT=http://127.0.0.1:4568 cargo test -p atone-kinesis
//! scripts/kinesis-emulator stop
//! ```
//!
//! Without `ATONE_TEST_KINESIS_ENDPOINT` every test here fails, saying how to start it.

mod fanout;
mod helpers;
mod reader;
mod slow;
mod streams;
