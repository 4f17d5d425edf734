//! The `atone` binary: wires the three services onto one port.

pub mod app;
pub mod cli;
pub mod telemetry;
pub mod web;

pub use app::Application;
