//! Sending alerts to Alertmanagers, as Prometheus' notifier does.
//!
//! - [`Alert`]: the alert as rules produce it and Alertmanagers receive it (shared with the
//!   built-in Alertmanager, which receives the same type in-process).
//! - Configuration is the `alerting:` section as the `config` crate parses it
//!   ([`config::AlertingConfig`]); relabeling is `model::relabel`.
//! - [`discovery`]: static and file service discovery of Alertmanagers.
//! - [`Notifier`]: the bounded queue (oldest dropped when full), batching (64 per request) and
//!   one sender task per Alertmanager set, `POST <scheme>://<address><path_prefix>/api/v2/alerts`.
//!
//! Architecture invariant: nothing here knows PromQL or rules; the queue is filled through
//! [`Notifier::send`], which never blocks on the network.

pub mod alert;
pub mod discovery;
mod error;
mod manager;
pub mod metrics;
mod send;

pub use alert::{Alert, alerts_to_json};
pub use error::NotifierError;
pub use manager::{AlertmanagerStatus, LocalReceiver, Notifier, NotifierOptions};
pub use metrics::{AlertmanagerSeries, NotifierMetrics};
