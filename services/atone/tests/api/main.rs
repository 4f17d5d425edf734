//! atone over its real gRPC API, on SQLite and on the local MariaDB.

mod auth;
mod bad_input;
mod concurrency;
mod crash;
mod flow;
mod idempotency;
mod limits;
mod money;
mod month;
mod read_your_writes;
mod readme;
mod tls;
mod watch;
mod webhook;
