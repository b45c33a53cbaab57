//! SLOs as first-class objects.
//!
//! An `slos:` file names an SLI (a ratio of an error selector to a total selector, or a latency
//! threshold on a histogram), an objective (e.g. 99.9 %) and a window (e.g. 30 d). From it Pharos
//! generates, as an ordinary Prometheus rule file:
//!
//! - recording rules `slo:sli_error:ratio_rate<W>` for the windows the alerts need, the objective
//!   and the remaining error budget;
//! - the multi-window, multi-burn-rate alerts of the Google SRE workbook (chapter 5, table 6:
//!   1 h/5 m at 14.4×, 6 h/30 m at 6× paging; 1 d/2 h at 3×, 3 d/6 h at 1× as tickets);
//!
//! and an error-budget dashboard in Grafana's JSON model ([`dashboard`]).

mod dashboard;
mod error;
mod rules;
mod spec;

pub use dashboard::dashboard;
pub use error::SloError;
pub use rules::{BURN_RATE_ALERTS, BurnRateAlert, RuleFile, generate, to_yaml};
pub use spec::{Sli, Slo, SloFile, parse};
