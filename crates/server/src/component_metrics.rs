//! The `/metrics` sections written as OpenMetrics text, one module per component (rule groups,
//! TSDB, notifier, built-in Alertmanager, remote write, HTTP API and engine, scraping and
//! service discovery), the helpers they share, and the registration of the alerting chain's,
//! remote write's and scraping's sections.

mod discovery;
mod http_api;
mod notifications;
mod remote_storage;
pub mod rules;
mod scrape;
pub mod tsdb;

use std::sync::Arc;

use crate::SelfMetrics;
use crate::components::{Alerting, Storage};

/// Escapes a label value (backslash, double quote, newline).
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Adds the HTTP API's and the query engine's families to `/metrics`.
pub fn register_api(state: &api::ApiState, metrics: &SelfMetrics) {
    let m = Arc::clone(&state.http_metrics);
    metrics.add_text_section(Box::new(move |out| http_api::render(&m.snapshot(), out)));
}

/// Adds the scrape manager's and its service discovery's families to `/metrics`.
pub fn register_scrape(manager: &Arc<::scrape::Manager>, metrics: &SelfMetrics) {
    let m = Arc::clone(manager);
    metrics.add_text_section(Box::new(move |out| scrape::render(&m.metrics(), out)));
}

/// Adds the notifier's, the built-in Alertmanager's and remote write's families to `/metrics`.
pub fn register(storage: &Storage, alerting: Option<&Alerting>, metrics: &SelfMetrics) {
    if let Some(rw) = &storage.remote {
        let manager = Arc::clone(&rw.manager);
        metrics
            .add_text_section(Box::new(move |out| remote_storage::render(&manager.metrics(), out)));
    }
    if let Some(a) = alerting {
        let n = Arc::clone(&a.notifier);
        metrics.add_text_section(Box::new(move |out| notifications::render(&n.metrics(), out)));
        if let Some(am) = a.alertmanager.clone() {
            let version = env!("CARGO_PKG_VERSION");
            metrics.add_text_section(Box::new(move |out| {
                alertmanager_api::metrics::render(&am.metrics(), version, out)
            }));
        }
    }
}
