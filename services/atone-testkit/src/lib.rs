//! What atone's tests share, as a dev-dependency: fresh databases ([`db`]), atone in the
//! test's process ([`app`]) and as child processes ([`process`]), a client ([`client`]),
//! the Kinesis emulator ([`emulator`]), a TCP proxy ([`proxy`]), a bare HTTP/2 client
//! ([`raw_h2`]), certificates ([`tls`]), load ([`load`]), an OTLP trace receiver
//! ([`otlp`]) and the checks that must hold of the read models whatever happened
//! ([`checks`]).
//!
//! A helper that cannot do its job panics with what went wrong: that fails the test that
//! called it, which is the point.

pub mod app;
pub mod auth;
pub mod backends;
pub mod checks;
pub mod client;
pub mod db;
pub mod emulator;
pub mod events;
pub mod fuzz;
pub mod history;
pub mod load;
pub mod otlp;
pub mod process;
pub mod proxy;
pub mod raw_h2;
pub mod receiver;
pub mod supervision;
pub mod tls;

pub use app::*;
pub use auth::*;
pub use checks::*;
pub use client::*;
pub use db::*;
pub use emulator::*;
pub use events::{append, purchase_events};
pub use load::*;
pub use otlp::OtlpReceiver;
pub use process::*;
pub use proxy::*;
pub use receiver::WebhookReceiver;
pub use supervision::end_vital_task;
pub use tls::*;

/// The repository's root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
