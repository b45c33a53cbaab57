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

use std::fmt::Write;
use std::sync::Arc;

use ::scrape::metrics::SummarySnapshot;
use api::json::format_value_f as number;

use crate::SelfMetrics;
use crate::components::{Alerting, Storage};

/// Escapes a label value (backslash, double quote, newline).
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes `# HELP` and `# TYPE` of a family.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A summary family with one series per label set (`label="value"` pairs, escaped), written
/// only if there is one.
fn summary_family(out: &mut String, name: &str, help: &str, series: &[(String, &SummarySnapshot)]) {
    if series.is_empty() {
        return;
    }
    header(out, name, "summary", help);
    for (labels, s) in series {
        let sep = if labels.is_empty() { "" } else { "," };
        for (q, v) in &s.quantiles {
            let _ =
                writeln!(out, "{name}{{{labels}{sep}quantile=\"{}\"}} {}", number(*q), number(*v));
        }
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ =
            writeln!(out, "{name}_sum{braces} {}\n{name}_count{braces} {}", number(s.sum), s.count);
    }
}

/// A family of one type with one series per label set, written only if there is one;
/// counters get `_total` on their samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, series: &[(String, f64)]) {
    if series.is_empty() {
        return;
    }
    header(out, name, kind, help);
    let suffix = if kind == "counter" { "_total" } else { "" };
    for (labels, v) in series {
        let _ = writeln!(out, "{name}{suffix}{{{labels}}} {}", number(*v));
    }
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
