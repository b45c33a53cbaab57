//! The `slos:` file format and its validation.
//!
//! ```yaml
//! slos:
//!   - name: api-availability
//!     objective: 99.9          # percent of good events
//!     window: 30d              # default 30d
//!     sli:
//!       errors: http_requests_total{job="api-server",status=~"5.."}
//!       total: http_requests_total{job="api-server"}
//!   - name: api-latency
//!     objective: 99
//!     sli:
//!       latency:
//!         histogram: http_request_duration_seconds{job="api-server"}
//!         threshold: 0.5       # seconds; must be one of the histogram's bucket bounds
//!     labels: {team: web}
//!     annotations: {runbook_url: "https://runbooks/api"}
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::SloError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloFile {
    pub slos: Vec<Slo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    pub name: String,
    /// Percentage of good events, e.g. `99.9`.
    pub objective: f64,
    /// The SLO window in Prometheus' duration notation.
    #[serde(default = "default_window")]
    pub window: String,
    pub sli: Sli,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

fn default_window() -> String {
    "30d".to_string()
}

/// What counts as a bad event.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Sli {
    /// Bad events over all events, each a series selector of counters.
    Ratio { errors: String, total: String },
    /// Events slower than `threshold` seconds in a classic histogram.
    Latency { latency: LatencySli },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySli {
    /// The histogram's base selector, e.g. `http_request_duration_seconds{job="api"}`.
    pub histogram: String,
    pub threshold: f64,
}

impl Slo {
    /// The allowed fraction of bad events, e.g. `0.001` for 99.9 %, rounded to remove the binary
    /// noise of `1 - 0.999`.
    pub fn error_budget(&self) -> f64 {
        let raw = (100.0 - self.objective) / 100.0;
        (raw * 1e12).round() / 1e12
    }

    pub fn window_ms(&self) -> Result<i64, model::ModelError> {
        model::duration::parse_duration(&self.window)
    }
}

/// Parses and validates an SLO file; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<Slo>, SloError> {
    let parsed: SloFile = serde_saphyr::from_str(text)
        .map_err(|e| SloError::Parse { file: file.to_string(), message: e.to_string() })?;
    let mut seen = std::collections::HashSet::new();
    for slo in &parsed.slos {
        let invalid = |message: String| SloError::Invalid {
            file: file.to_string(),
            slo: slo.name.clone(),
            message,
        };
        validate(slo).map_err(invalid)?;
        if !seen.insert(slo.name.clone()) {
            return Err(SloError::Invalid {
                file: file.to_string(),
                slo: slo.name.clone(),
                message: "duplicate slo name".into(),
            });
        }
    }
    Ok(parsed.slos)
}

fn validate(slo: &Slo) -> Result<(), String> {
    let name_ok = !slo.name.is_empty()
        && slo.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok {
        return Err("name must be non-empty and use only letters, digits, '-' and '_'".into());
    }
    if !(slo.objective > 0.0 && slo.objective < 100.0) {
        return Err(format!(
            "objective must be a percentage between 0 and 100, got {}",
            slo.objective
        ));
    }
    let window = slo.window_ms().map_err(|e| format!("window: {e}"))?;
    if window < 3_600_000 {
        return Err(format!("window must be at least 1h, got {}", slo.window));
    }
    match &slo.sli {
        Sli::Ratio { errors, total } => {
            non_empty_selector("errors", errors)?;
            non_empty_selector("total", total)
        }
        Sli::Latency { latency } => {
            non_empty_selector("histogram", &latency.histogram)?;
            if !(latency.threshold > 0.0 && latency.threshold.is_finite()) {
                return Err(format!(
                    "latency threshold must be positive, got {}",
                    latency.threshold
                ));
            }
            Ok(())
        }
    }
}

fn non_empty_selector(field: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("sli {field} selector is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_sli_kinds() {
        let slos = parse(
            r#"
slos:
  - name: api-availability
    objective: 99.9
    sli:
      errors: http_requests_total{job="api-server",status=~"5.."}
      total: http_requests_total{job="api-server"}
  - name: api-latency
    objective: 99
    window: 7d
    sli:
      latency:
        histogram: http_request_duration_seconds{job="api-server"}
        threshold: 0.5
"#,
            "slos.yml",
        )
        .unwrap();
        assert_eq!(slos.len(), 2);
        assert_eq!(slos[0].error_budget(), 0.001);
        assert_eq!(slos[0].window, "30d");
        assert!(matches!(slos[1].sli, Sli::Latency { .. }));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_errors() {
        let unknown = "slos:\n  - name: a\n    objective: 99\n    windw: 30d\n    sli: {errors: a, total: b}\n";
        let e = parse(unknown, "s.yml").unwrap_err().to_string();
        assert!(e.starts_with("s.yml: "), "{e}");
        let bad = "slos:\n  - name: a\n    objective: 100\n    sli: {errors: a, total: b}\n";
        let e = parse(bad, "s.yml").unwrap_err().to_string();
        assert!(e.contains("objective"), "{e}");
        let dup = "slos:\n  - {name: a, objective: 99, sli: {errors: a, total: b}}\n  - {name: a, objective: 99, sli: {errors: a, total: b}}\n";
        assert!(parse(dup, "s.yml").unwrap_err().to_string().contains("duplicate"));
    }
}
