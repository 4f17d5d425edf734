//! atone over Kinesis: separate processes, a real emulator (kinesis-mock) and MariaDB.

mod contention;
mod dead_letters;
mod failover;
mod flow;
mod foreign;
mod fuzz;
mod outage;
mod packing;
mod reshard;
mod tls;
mod traces;
mod webhooks;
