//! atone over its real gRPC API, on SQLite and on the local MariaDB.

mod auth;
mod aws_region;
mod bad_input;
mod bounded;
mod concurrency;
mod crash;
mod event_log;
mod flow;
mod group_commit;
mod idempotency;
mod json;
mod limits;
mod live_push;
mod member_cache;
mod metrics;
mod money;
mod month;
mod read_your_writes;
mod readiness;
mod readme;
mod reconcile;
mod tls;
mod traces;
mod verify;
mod watch;
mod webhook;
