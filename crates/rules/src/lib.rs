//! Recording and alerting rules, as Prometheus evaluates them.
//!
//! - [`rulefmt`]: rule files (groups, rules) with Prometheus' validation messages.
//! - [`Group`]: one group's rules evaluated in order at one timestamp ([`Group::eval`]),
//!   recording outputs and `ALERTS`/`ALERTS_FOR_STATE` appended, stale markers for series that
//!   went away, alerts handed to the [`AlertSink`], `for` state restored from storage.
//! - [`AlertingRule`]: the alert state machine (inactive → pending → firing → resolved,
//!   `for`, `keep_firing_for`, resolved alerts kept and resent for 15 minutes).
//! - [`template`]: Go text/template expansion with Prometheus' functions.
//! - [`Manager`]: loading rule files, reload with state carried over, the evaluation loops
//!   (aligned as Prometheus aligns them) and the views behind `/api/v1/rules` and `/api/v1/alerts`.
//! - [`check`]: `promtool check rules`, [`lint`]: extra lints; [`unittest`]: `promtool test rules`.
//!
//! Architecture invariant: rules see the outside world only through [`QueryFunc`],
//! `storage::Appendable`/`Queryable`, [`AlertSink`] and [`Clock`].

mod alerting;
pub mod api;
pub mod check;
mod deps;
mod engine;
mod error;
mod expr;
mod group;
pub mod lint;
mod manager;
pub mod metrics;
mod recording;
pub mod rulefmt;
pub mod schedule;
mod seams;
pub mod template;
pub mod unittest;

pub use alerting::{ActiveAlert, AlertState, AlertingRule};
pub use engine::EngineQuery;
pub use error::RuleError;
pub use group::{Group, GroupOptions, Rule, RuleHealth};
pub use manager::{Manager, ManagerOptions, expand_globs};
pub use recording::RecordingRule;
pub use seams::{
    Alert, AlertSink, Clock, FanoutSink, ManualClock, NullSink, QueryFunc, QuerySample,
    RecordingSink, SystemClock,
};
