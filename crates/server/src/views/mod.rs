//! The API's read views implemented over the concrete components.
//!
//! `api` defines small traits (targets, rules, TSDB status, config) so it never names a
//! concrete manager; this module is where those traits meet the real types.

mod config_view;
mod rules_view;
mod targets_view;
mod tsdb_view;

pub use config_view::{ConfigState, ServerConfigView};
pub use rules_view::{NotifierView, RulesManagerView, RulesReload};
pub use targets_view::{ScrapeReload, ScrapeView};
pub use tsdb_view::DbView;
