//! The rule manager's metrics on `/metrics`, with Prometheus 2.42's names, types, help texts
//! and `rule_group` label (`rules/manager.go`), so the self-monitoring alerts and dashboards
//! (`PrometheusRuleFailures`, `PrometheusMissingRuleEvaluations`, ...) work unchanged.
//!
//! Written as OpenMetrics text, like the rest of `/metrics`: the registry's encoder has no
//! summary type, and two of these are summaries.

use std::fmt::Write;
use std::sync::Arc;

use api::json::format_value_f as number;
use rules::metrics::{GroupSeries, RuleMetricsSnapshot, SummarySnapshot};

use super::escape;
use crate::SelfMetrics;

/// A per-group family: name (without `_total` for counters), help, whether it is a counter,
/// and its value.
struct Family {
    name: &'static str,
    help: &'static str,
    counter: bool,
    value: fn(&GroupSeries) -> f64,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "prometheus_rule_group_iterations_missed",
        help: "The total number of rule group evaluations missed due to slow rule group evaluation.",
        counter: true,
        value: |g| g.iterations_missed as f64,
    },
    Family {
        name: "prometheus_rule_group_iterations",
        help: "The total number of scheduled rule group evaluations, whether executed or missed.",
        counter: true,
        value: |g| g.iterations as f64,
    },
    Family {
        name: "prometheus_rule_evaluations",
        help: "The total number of rule evaluations.",
        counter: true,
        value: |g| g.evaluations as f64,
    },
    Family {
        name: "prometheus_rule_evaluation_failures",
        help: "The total number of rule evaluation failures.",
        counter: true,
        value: |g| g.evaluation_failures as f64,
    },
    Family {
        name: "prometheus_rule_group_interval_seconds",
        help: "The interval of a rule group.",
        counter: false,
        value: |g| g.interval_seconds,
    },
    Family {
        name: "prometheus_rule_group_last_evaluation_timestamp_seconds",
        help: "The timestamp of the last rule group evaluation in seconds.",
        counter: false,
        value: |g| g.last_evaluation_timestamp_seconds,
    },
    Family {
        name: "prometheus_rule_group_last_duration_seconds",
        help: "The duration of the last rule group evaluation.",
        counter: false,
        value: |g| g.last_duration_seconds,
    },
    Family {
        name: "prometheus_rule_group_rules",
        help: "The number of rules.",
        counter: false,
        value: |g| g.rules,
    },
    Family {
        name: "prometheus_rule_group_last_evaluation_samples",
        help: "The number of samples returned during the last rule group evaluation.",
        counter: false,
        value: |g| g.last_evaluation_samples,
    },
];

/// Adds the rule manager's metrics to the server's `/metrics`.
pub fn register(manager: &Arc<rules::Manager>, metrics: &SelfMetrics) {
    let manager = manager.clone();
    metrics.add_text_section(Box::new(move |out| render(&manager.metrics_snapshot(), out)));
}

/// Writes the families in OpenMetrics text.
pub fn render(s: &RuleMetricsSnapshot, out: &mut String) {
    summary(
        out,
        "prometheus_rule_evaluation_duration_seconds",
        "The duration for a rule to execute.",
        &s.rule_duration,
    );
    summary(
        out,
        "prometheus_rule_group_duration_seconds",
        "The duration of rule group evaluations.",
        &s.group_duration,
    );
    for f in FAMILIES {
        let kind = if f.counter { "counter" } else { "gauge" };
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {kind}", f.name, f.help, f.name);
        let suffix = if f.counter { "_total" } else { "" };
        for (key, g) in &s.groups {
            let _ = writeln!(
                out,
                "{}{suffix}{{rule_group=\"{}\"}} {}",
                f.name,
                escape(key),
                number((f.value)(g))
            );
        }
    }
}

fn summary(out: &mut String, name: &str, help: &str, s: &SummarySnapshot) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
    for (q, v) in &s.quantiles {
        let _ = writeln!(out, "{name}{{quantile=\"{}\"}} {}", number(*q), number(*v));
    }
    let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", number(s.sum), s.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_summaries() {
        let mut groups = std::collections::BTreeMap::new();
        let g =
            GroupSeries { iterations: 3, iterations_missed: 1, rules: 2.0, ..Default::default() };
        groups.insert("/r \"x\".yml;g".to_string(), g);
        let s = RuleMetricsSnapshot {
            groups,
            rule_duration: SummarySnapshot {
                quantiles: vec![(0.5, 0.25), (0.9, f64::NAN)],
                sum: 1.5,
                count: 6,
            },
            group_duration: SummarySnapshot { quantiles: vec![], sum: 0.0, count: 0 },
        };
        let mut out = String::new();
        render(&s, &mut out);
        for want in [
            "# TYPE prometheus_rule_evaluation_duration_seconds summary\n",
            "prometheus_rule_evaluation_duration_seconds{quantile=\"0.5\"} 0.25\n",
            "prometheus_rule_evaluation_duration_seconds{quantile=\"0.9\"} NaN\n",
            "prometheus_rule_evaluation_duration_seconds_sum 1.5\n",
            "prometheus_rule_evaluation_duration_seconds_count 6\n",
            "# TYPE prometheus_rule_group_iterations counter\n",
            "prometheus_rule_group_iterations_total{rule_group=\"/r \\\"x\\\".yml;g\"} 3\n",
            "prometheus_rule_group_iterations_missed_total{rule_group=\"/r \\\"x\\\".yml;g\"} 1\n",
            "# TYPE prometheus_rule_group_rules gauge\n",
            "prometheus_rule_group_rules{rule_group=\"/r \\\"x\\\".yml;g\"} 2\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
    }
}
