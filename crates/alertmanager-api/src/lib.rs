//! Pharos' Alertmanager API v2 and its runtime.
//!
//! - [`AlertmanagerService`] ([`service`]): the core behind a mutex plus the async driver
//!   that ticks it on wall time and delivers through `receivers`' per-receiver queues.
//! - [`AlertmanagerService::router`] ([`handlers`]): `/api/v2/{status,receivers,alerts,
//!   alerts/groups,silences,silence/{id}}` and `/-/{healthy,ready,reload}` with Alertmanager
//!   0.25's JSON, so amtool, Grafana and Prometheus work against it.
//! - [`openapi`]: the request checks of Alertmanager's generated go-openapi server (422s for
//!   missing fields, bad formats and non-UUID ids; 400s for bodies that do not decode).
//! - [`run_standalone`] ([`standalone`]): `pharos alertmanager` with Alertmanager's flags.

mod driver;
mod error;
pub mod handlers;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod service;
pub mod standalone;

pub use error::ApiError;
pub use metrics::AlertmanagerMetrics;
pub use service::AlertmanagerService;
pub use standalone::{StandaloneOpts, run_standalone};
