//! atone over Kinesis: separate processes, a real emulator (kinesis-mock) and MariaDB.

#[path = "../api/helpers.rs"]
mod helpers;
mod support;

mod failover;
mod flow;
mod foreign;
mod outage;
mod reshard;
