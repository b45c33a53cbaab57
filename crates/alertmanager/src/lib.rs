//! Pharos' Alertmanager core: everything between "an alert arrived" and "this notification
//! must go to that integration", synchronous and clock-driven.
//!
//! - [`config`]: `alertmanager.yml` (unknown fields are errors with file and line).
//! - [`Alertmanager`] ([`manager`]): push alerts, reload, `tick` on the injected [`Clock`]
//!   to get due [`Notification`]s, report outcomes with `notified`; API read views in [`query`].
//! - The pipeline: [`route`] tree, [`dispatch`] (aggregation groups and timers), [`inhibit`],
//!   [`silence`], time intervals, [`nflog`] dedup, as stages in [`pipeline`] with one [`Muter`].
//! - [`state`]: silences, notification log and alerts as snapshot + append log.
//! - [`template`]: Go text/template rendering with Alertmanager's data model and defaults.
//! - [`check`]: `pharos check alertmanager` and `pharos route test`.
//!
//! Architecture invariant: no tokio, no HTTP, no system clock reads; delivery lives in the
//! `receivers` crate and the driver in `alertmanager-api`.

pub mod alert;
pub mod check;
pub mod clock;
pub mod config;
pub mod dispatch;
mod error;
mod goregex;
pub mod inhibit;
pub mod manager;
pub mod matchers;
pub mod metrics;
pub mod nflog;
pub mod pipeline;
pub mod query;
pub mod route;
pub mod silence;
pub mod state;
pub mod store;
pub mod template;
pub mod timefmt;

pub use alert::{Alert, PostableAlert, fingerprint, fingerprint_string};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use error::{Error, Result};
pub use manager::{Alertmanager, Options, PushReport};
pub use pipeline::{Muter, Notification};
pub use query::{AlertQuery, AlertView, GroupView};
pub use silence::{Silence, SilenceMatcher, SilenceState};
