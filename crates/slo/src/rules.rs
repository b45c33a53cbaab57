//! Generating the rule file for a set of SLOs.
//!
//! Every SLO gets one group `slo:<name>` with recording rules labelled `slo="<name>"`:
//! `slo:sli_error:ratio_rate<W>` for each window the alerts read, `slo:objective:ratio`,
//! `slo:error_budget:ratio` and `slo:error_budget_remaining:ratio` over the SLO window; then
//! one `ErrorBudgetBurn` alert per row of [`BURN_RATE_ALERTS`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Sli, Slo};

/// One multi-window burn-rate alert: both windows must burn faster than `factor` × budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRateAlert {
    pub long_window: &'static str,
    pub short_window: &'static str,
    pub factor: f64,
    pub severity: &'static str,
    pub for_duration: &'static str,
}

/// The SRE workbook's recommended thresholds for a 30-day SLO (chapter 5, table 6): 2 % of the
/// budget in 1 h or 5 % in 6 h pages; 10 % in 1 d or in 3 d opens a ticket.
pub const BURN_RATE_ALERTS: [BurnRateAlert; 4] = [
    BurnRateAlert {
        long_window: "1h",
        short_window: "5m",
        factor: 14.4,
        severity: "page",
        for_duration: "2m",
    },
    BurnRateAlert {
        long_window: "6h",
        short_window: "30m",
        factor: 6.0,
        severity: "page",
        for_duration: "15m",
    },
    BurnRateAlert {
        long_window: "1d",
        short_window: "2h",
        factor: 3.0,
        severity: "ticket",
        for_duration: "1h",
    },
    BurnRateAlert {
        long_window: "3d",
        short_window: "6h",
        factor: 1.0,
        severity: "ticket",
        for_duration: "3h",
    },
];

/// The windows whose error ratio is recorded (every window an alert reads).
const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// A Prometheus rule file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleFile {
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub interval: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Formats a float as PromQL and YAML read it back exactly (shortest round-trip form).
fn num(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('e') { format!("{v:e}") } else { s }
}

/// Adds `extra` matchers to a selector written as `name{...}` or `name`.
fn with_matchers(selector: &str, name_suffix: &str, extra: &str) -> String {
    let selector = selector.trim();
    let (name, rest) = match selector.find('{') {
        Some(i) => (&selector[..i], &selector[i..]),
        None => (selector, ""),
    };
    let inner = rest.trim_start_matches('{').trim_end_matches('}').trim();
    let mut matchers: Vec<&str> = Vec::new();
    if !inner.is_empty() {
        matchers.push(inner);
    }
    if !extra.is_empty() {
        matchers.push(extra);
    }
    format!("{}{name_suffix}{{{}}}", name.trim(), matchers.join(","))
}

/// A regex matching how clients write the bucket bound `v` (`1`, `1.0`, `0.5`, `0.50`).
fn le_regex(v: f64) -> String {
    let s = num(v);
    let escaped = s.replace('.', "\\\\.");
    if s.contains('.') { format!("{escaped}0*") } else { format!("{escaped}(\\\\.0*)?") }
}

/// The error ratio over `window` for the SLI.
fn error_ratio(sli: &Sli, window: &str) -> String {
    match sli {
        Sli::Ratio { errors, total } => format!(
            "(sum(rate({}[{window}])) or vector(0)) / sum(rate({}[{window}]))",
            with_matchers(errors, "", ""),
            with_matchers(total, "", "")
        ),
        Sli::Latency { latency } => {
            let good = with_matchers(
                &latency.histogram,
                "_bucket",
                &format!("le=~\"{}\"", le_regex(latency.threshold)),
            );
            let all = with_matchers(&latency.histogram, "_count", "");
            format!("1 - (sum(rate({good}[{window}])) / sum(rate({all}[{window}])))")
        }
    }
}

fn slo_labels(slo: &Slo) -> BTreeMap<String, String> {
    let mut labels = slo.labels.clone();
    labels.insert("slo".into(), slo.name.clone());
    labels
}

fn record(name: &str, expr: String, labels: BTreeMap<String, String>) -> Rule {
    Rule {
        record: Some(name.to_string()),
        alert: None,
        expr,
        for_duration: None,
        labels,
        annotations: BTreeMap::new(),
    }
}

fn recording_rules(slo: &Slo) -> Vec<Rule> {
    let labels = slo_labels(slo);
    let sel = format!("{{slo=\"{}\"}}", slo.name);
    let mut rules: Vec<Rule> = WINDOWS
        .iter()
        .map(|w| {
            record(
                &format!("slo:sli_error:ratio_rate{w}"),
                error_ratio(&slo.sli, w),
                labels.clone(),
            )
        })
        .collect();
    let budget = num(slo.error_budget());
    rules.push(record(
        "slo:objective:ratio",
        format!("vector({})", num(slo.objective / 100.0)),
        labels.clone(),
    ));
    rules.push(record("slo:error_budget:ratio", format!("vector({budget})"), labels.clone()));
    let window = &slo.window;
    rules.push(record(
        &format!("slo:sli_error:ratio_rate{window}"),
        format!("avg_over_time(slo:sli_error:ratio_rate5m{sel}[{window}])"),
        labels.clone(),
    ));
    rules.push(record(
        "slo:error_budget_remaining:ratio",
        format!("1 - slo:sli_error:ratio_rate{window}{sel} / {budget}"),
        labels,
    ));
    rules
}

fn burn_alert(slo: &Slo, a: &BurnRateAlert) -> Rule {
    let sel = format!("{{slo=\"{}\"}}", slo.name);
    let threshold = format!("({} * {})", num(a.factor), num(slo.error_budget()));
    let expr = format!(
        "slo:sli_error:ratio_rate{long}{sel} > {threshold}\nand\nslo:sli_error:ratio_rate{short}{sel} > {threshold}",
        long = a.long_window,
        short = a.short_window,
    );
    let mut labels = slo_labels(slo);
    labels.insert("severity".into(), a.severity.into());
    labels.insert("long_window".into(), a.long_window.into());
    labels.insert("short_window".into(), a.short_window.into());
    let mut annotations = slo.annotations.clone();
    annotations.insert(
        "summary".into(),
        format!(
            "SLO {} is burning its error budget {}x too fast ({} and {} windows)",
            slo.name,
            num(a.factor),
            a.long_window,
            a.short_window
        ),
    );
    annotations.entry("description".into()).or_insert_with(|| {
        "Error ratio over the last {{ $labels.long_window }} is {{ $value | humanizePercentage }}.".into()
    });
    Rule {
        record: None,
        alert: Some("ErrorBudgetBurn".into()),
        expr,
        for_duration: Some(a.for_duration.into()),
        labels,
        annotations,
    }
}

/// The rule file for `slos`: one group per SLO, recording rules first, then the alerts.
pub fn generate(slos: &[Slo]) -> RuleFile {
    let groups = slos
        .iter()
        .map(|slo| {
            let mut rules = recording_rules(slo);
            rules.extend(BURN_RATE_ALERTS.iter().map(|a| burn_alert(slo, a)));
            RuleGroup { name: format!("slo:{}", slo.name), interval: "30s".into(), rules }
        })
        .collect();
    RuleFile { groups }
}

/// Renders a rule file as YAML, as `pharos check` shows it and the rule manager loads it.
pub fn to_yaml(file: &RuleFile) -> String {
    serde_saphyr::to_string(file).unwrap_or_else(|e| format!("# cannot render rules: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn availability() -> Vec<Slo> {
        parse(
            "slos:\n  - name: api\n    objective: 99.9\n    window: 30d\n    sli:\n      errors: http_requests_total{job=\"api\",status=~\"5..\"}\n      total: http_requests_total{job=\"api\"}\n",
            "t.yml",
        )
        .unwrap()
    }

    /// The workbook's table 6 for a 99.9 % / 30 d SLO: thresholds 1.44 %, 0.6 %, 0.3 %, 0.1 %.
    #[test]
    fn burn_rate_thresholds_match_the_workbook() {
        let slo = &availability()[0];
        let expected = [
            (0.0144, "1h", "5m", "page"),
            (0.006, "6h", "30m", "page"),
            (0.003, "1d", "2h", "ticket"),
            (0.001, "3d", "6h", "ticket"),
        ];
        for (a, (threshold, long, short, severity)) in BURN_RATE_ALERTS.iter().zip(expected) {
            assert!((a.factor * slo.error_budget() - threshold).abs() < 1e-12);
            assert_eq!((a.long_window, a.short_window, a.severity), (long, short, severity));
        }
        // Budget consumed before each alert fires, as the workbook states: 2 %, 5 %, 10 %, 10 %.
        let consumed: Vec<f64> = BURN_RATE_ALERTS
            .iter()
            .map(|a| {
                let hours = model::duration::parse_duration(a.long_window).unwrap() as f64 / 3.6e6;
                (a.factor * hours / (30.0 * 24.0) * 1000.0).round() / 1000.0
            })
            .collect();
        assert_eq!(consumed, vec![0.02, 0.05, 0.1, 0.1]);
    }

    #[test]
    fn generated_alerts_read_both_windows() {
        let file = generate(&availability());
        let rules = &file.groups[0].rules;
        let page = rules
            .iter()
            .find(|r| r.labels.get("long_window").map(String::as_str) == Some("1h"))
            .unwrap();
        assert_eq!(page.alert.as_deref(), Some("ErrorBudgetBurn"));
        assert_eq!(
            page.expr,
            "slo:sli_error:ratio_rate1h{slo=\"api\"} > (14.4 * 0.001)\nand\nslo:sli_error:ratio_rate5m{slo=\"api\"} > (14.4 * 0.001)"
        );
        assert_eq!(page.labels["severity"], "page");
        let r5m = rules
            .iter()
            .find(|r| r.record.as_deref() == Some("slo:sli_error:ratio_rate5m"))
            .unwrap();
        assert_eq!(
            r5m.expr,
            "(sum(rate(http_requests_total{job=\"api\",status=~\"5..\"}[5m])) or vector(0)) / sum(rate(http_requests_total{job=\"api\"}[5m]))"
        );
        // Every window an alert reads is recorded.
        for a in BURN_RATE_ALERTS {
            for w in [a.long_window, a.short_window] {
                let name = format!("slo:sli_error:ratio_rate{w}");
                assert!(rules.iter().any(|r| r.record.as_deref() == Some(name.as_str())), "{name}");
            }
        }
    }

    #[test]
    fn latency_sli_counts_requests_above_the_threshold() {
        let slos = parse(
            "slos:\n  - name: lat\n    objective: 99\n    sli:\n      latency:\n        histogram: http_request_duration_seconds{job=\"api\"}\n        threshold: 0.5\n",
            "t.yml",
        )
        .unwrap();
        let file = generate(&slos);
        let r = &file.groups[0].rules[0];
        assert_eq!(
            r.expr,
            "1 - (sum(rate(http_request_duration_seconds_bucket{job=\"api\",le=~\"0\\\\.50*\"}[5m])) / sum(rate(http_request_duration_seconds_count{job=\"api\"}[5m])))"
        );
        assert_eq!(le_regex(1.0), "1(\\\\.0*)?");
    }

    #[test]
    fn yaml_is_a_rule_file() {
        let yaml = to_yaml(&generate(&availability()));
        assert!(yaml.starts_with("groups:"), "{yaml}");
        assert!(yaml.contains("record: slo:sli_error:ratio_rate1h"), "{yaml}");
        assert!(yaml.contains("alert: ErrorBudgetBurn"), "{yaml}");
    }
}
