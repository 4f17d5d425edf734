//! The `atone` binary: wires the three services onto one port.
//!
//! [`settings`] says what a process runs (the command line in [`cli`] converts into it),
//! [`startup`] starts each role, [`router`] puts them on one port, and [`app`] builds and
//! serves the whole; [`oneshot`] holds the subcommands that do one thing and exit.

pub mod app;
mod auth_service;
mod body_limit;
pub mod cli;
/// The book's configuration page, generated from `cli` (by its tests: not in the binary).
#[cfg(test)]
mod config_page;
pub mod json;
mod limits;
pub mod methods;
pub mod metrics;
pub mod oneshot;
pub mod outgoing;
pub mod readiness;
pub mod rebuild;
pub mod remote;
pub mod router;
pub mod server;
pub mod settings;
pub mod signal;
pub mod signature;
pub mod startup;
pub mod tasks;
pub mod telemetry;
mod tls;
pub mod web;
pub mod webhook;

pub use app::Application;
pub use settings::Settings;
