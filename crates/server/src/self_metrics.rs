//! The server's own metrics, served on `/metrics`.
//!
//! Names follow Prometheus' own (`prometheus_build_info`, `prometheus_ready`,
//! `prometheus_config_last_reload_successful`, `process_*`) so the self-monitoring dashboards and
//! alerts users already run against Prometheus keep working against Pharos.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parking_lot::Mutex;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::process_metrics::ProcessCollector;

/// Labels of `prometheus_build_info`.
type BuildInfoLabels = Vec<(String, String)>;

/// Writes one constant metric (a `ConstGauge` or `ConstCounter` a collector computed) under its
/// name and help.
pub(crate) fn encode_const(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    let m = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
    metric.encode(m)
}

/// Writes metric families as OpenMetrics text (for types the registry cannot encode).
pub type TextSection = Box<dyn Fn(&mut String) + Send + Sync>;

/// Handles to the metrics other parts of the server update.
#[derive(Clone)]
pub struct SelfMetrics {
    registry: Arc<Mutex<Registry>>,
    text_sections: Arc<Mutex<Vec<TextSection>>>,
    pub ready: Gauge,
    pub config_last_reload_successful: Gauge,
    pub config_last_reload_success_timestamp_seconds: Gauge<f64, AtomicU64>,
}

impl SelfMetrics {
    /// Help texts are given without their final period: the registry adds it.
    pub fn new(version: &str) -> SelfMetrics {
        let mut registry = Registry::default();
        let build_info = Family::<BuildInfoLabels, Gauge>::default();
        build_info
            .get_or_create(&vec![
                ("version".to_string(), version.to_string()),
                ("revision".to_string(), String::new()),
                ("branch".to_string(), String::new()),
                ("goversion".to_string(), "rust".to_string()),
            ])
            .set(1);
        registry.register(
            "prometheus_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build",
            build_info,
        );
        let ready = Gauge::default();
        registry.register("prometheus_ready", "Whether Prometheus startup was fully completed and the server is ready for normal operation", ready.clone());
        let reload_ok = Gauge::default();
        registry.register(
            "prometheus_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful",
            reload_ok.clone(),
        );
        let reload_ts = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "prometheus_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload",
            reload_ts.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector::new()));
        SelfMetrics {
            registry: Arc::new(Mutex::new(registry)),
            text_sections: Arc::new(Mutex::new(Vec::new())),
            ready,
            config_last_reload_successful: reload_ok,
            config_last_reload_success_timestamp_seconds: reload_ts,
        }
    }

    /// Lets another component register its metrics in the same registry.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.registry.lock())
    }

    /// Adds families written as text after the registry's, before `# EOF`.
    pub fn add_text_section(&self, section: TextSection) {
        self.text_sections.lock().push(section);
    }

    /// The text exposition (format 0.0.4-compatible OpenMetrics text without `# EOF` handling
    /// left to the caller).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail except through a broken collector.
        if encode(&mut out, &self.registry.lock()).is_err() {
            out.clear();
        }
        let sections = self.text_sections.lock();
        if !sections.is_empty() {
            let eof = out.ends_with("# EOF\n");
            if eof {
                out.truncate(out.len() - "# EOF\n".len());
            }
            for section in sections.iter() {
                section(&mut out);
            }
            if eof {
                out.push_str("# EOF\n");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_texts_are_prometheus_own_with_one_final_period() {
        let out = SelfMetrics::new("0.0.0").encode();
        for want in [
            "# HELP prometheus_build_info A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus was built, and the goos and goarch for the build.\n",
            "# HELP prometheus_ready Whether Prometheus startup was fully completed and the server is ready for normal operation.\n",
            "# HELP prometheus_config_last_reload_successful Whether the last configuration reload attempt was successful.\n",
            "# HELP prometheus_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        assert!(!out.contains("..\n"), "a help text ends in two periods:\n{out}");
    }
}
