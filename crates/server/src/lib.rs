//! The composition root of `pharos server`.
//!
//! This is the only crate that names every concrete component. It turns [`ServerOptions`]
//! (Prometheus' flag names, parsed by the binary) into running parts, serves them on one
//! listener, and shuts them down in order on SIGTERM/SIGINT or `/-/quit`.
//!
//! Startup: open storage → build components → listen (not ready) → apply config → ready.
//! Shutdown: stop ingestion → stop rules → drain notifications → stop HTTP → close storage.

mod alerting;
mod component_metrics;
mod components;
mod config_load;
mod error;
mod exposition;
mod host;
mod http;
mod huge_pages;
mod lifecycle;
mod options;
mod process_metrics;
mod remote_write;
mod run;
mod self_access;
mod self_metrics;
mod slo_rules;
mod tsdb_open;
mod views;
mod web_security;

pub use error::ServerError;
pub use lifecycle::Reloadable;
pub use options::{LogFormat, ServerOptions};
pub use run::{Server, run};
pub use self_metrics::SelfMetrics;
