//! atone over its real gRPC API, on SQLite and on the local MariaDB.

mod auth;
mod bad_input;
mod concurrency;
mod crash;
mod flow;
mod idempotency;
mod money;
mod month;
mod read_your_writes;
mod readme;
mod watch;
mod webhook;
