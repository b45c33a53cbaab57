//! Row types of `/api/v1/rules` and `/api/v1/alerts`, serialising exactly as Prometheus'
//! JSON (field names, order, `omitempty`, RFC 3339 times, values as `%e` strings).

use std::sync::Arc;

use chrono::DateTime;
use model::{Labels, Matcher};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::alerting::{ActiveAlert, AlertingRule};
use crate::group::{Group, Rule};
use crate::template::gofmt::format_e_shortest;

/// Labels as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonLabels(pub Labels);

impl Serialize for JsonLabels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in self.0.iter() {
            m.serialize_entry(&*l.name, &*l.value)?;
        }
        m.end()
    }
}

/// A float as Go's `encoding/json` writes it: `300`, `0.000012345`, `1e-7`, `1e+21`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoF64(pub f64);

/// Go's `encoding/json` text of a float.
pub fn go_json_float(f: f64) -> String {
    if !f.is_finite() {
        return "0".into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = format_e_shortest(f);
        return match e.split_once('e') {
            Some((m, exp)) => {
                let (sign, digits) = exp.split_at(1);
                format!("{m}e{sign}{}", digits.trim_start_matches('0'))
            }
            None => e,
        };
    }
    format!("{f}")
}

impl Serialize for GoF64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(go_json_float(self.0))
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// A time as Go's `time.Time` marshals it (RFC 3339 with up to nanoseconds; zero time for `None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonTime(pub Option<i64>);

impl Serialize for JsonTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(self.0))
    }
}

/// Go's `time.Time` JSON text of a ms timestamp (`0001-01-01T00:00:00Z` for the zero time).
pub fn format_time(ms: Option<i64>) -> String {
    match ms.and_then(DateTime::from_timestamp_millis) {
        Some(t) => {
            let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = format!(".{:03}", ms.unwrap_or(0).rem_euclid(1000));
            let frac = frac.trim_end_matches('0').trim_end_matches('.');
            format!("{base}{frac}Z")
        }
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// One alert of `/api/v1/alerts` and of an alerting rule in `/api/v1/rules`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiAlert {
    pub labels: JsonLabels,
    pub annotations: JsonLabels,
    pub state: String,
    #[serde(rename = "activeAt")]
    pub active_at: JsonTime,
    #[serde(rename = "keepFiringSince", skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<JsonTime>,
    pub value: String,
}

impl ApiAlert {
    pub fn from_alert(a: &ActiveAlert) -> ApiAlert {
        ApiAlert {
            labels: JsonLabels(a.labels.clone()),
            annotations: JsonLabels(a.annotations.clone()),
            state: a.state.as_str().to_string(),
            active_at: JsonTime(a.active_at),
            keep_firing_since: a.keep_firing_since.map(|t| JsonTime(Some(t))),
            value: format_e_shortest(a.value),
        }
    }
}

/// The `data` of `/api/v1/alerts`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertDiscovery {
    pub alerts: Vec<ApiAlert>,
}

/// An alerting rule row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiAlertingRule {
    pub state: String,
    pub name: String,
    pub query: String,
    pub duration: GoF64,
    #[serde(rename = "keepFiringFor")]
    pub keep_firing_for: GoF64,
    pub labels: JsonLabels,
    pub annotations: JsonLabels,
    pub alerts: Option<Vec<ApiAlert>>,
    pub health: String,
    #[serde(rename = "lastError", skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    #[serde(rename = "evaluationTime")]
    pub evaluation_time: GoF64,
    #[serde(rename = "lastEvaluation")]
    pub last_evaluation: JsonTime,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A recording rule row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiRecordingRule {
    pub name: String,
    pub query: String,
    pub labels: JsonLabels,
    pub health: String,
    #[serde(rename = "lastError", skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    #[serde(rename = "evaluationTime")]
    pub evaluation_time: GoF64,
    #[serde(rename = "lastEvaluation")]
    pub last_evaluation: JsonTime,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// Either kind of rule row.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ApiRule {
    Alerting(ApiAlertingRule),
    Recording(ApiRecordingRule),
}

/// A group row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiRuleGroup {
    pub name: String,
    pub file: String,
    pub rules: Vec<ApiRule>,
    pub interval: GoF64,
    pub limit: usize,
    #[serde(rename = "evaluationTime")]
    pub evaluation_time: GoF64,
    #[serde(rename = "lastEvaluation")]
    pub last_evaluation: JsonTime,
}

/// The `data` of `/api/v1/rules`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleDiscovery {
    pub groups: Vec<ApiRuleGroup>,
}

/// The filters of `/api/v1/rules` (already parsed and validated by the API layer).
#[derive(Debug, Clone, Default)]
pub struct RulesFilter {
    /// `type`: None for both, Some("alert") or Some("record").
    pub kind: Option<String>,
    pub rule_names: Vec<String>,
    pub rule_groups: Vec<String>,
    pub files: Vec<String>,
    pub exclude_alerts: bool,
    /// `match[]`: a rule is kept if its labels satisfy any one set.
    pub matcher_sets: Vec<Vec<Matcher>>,
}

fn labels_match(labels: &Labels, sets: &[Vec<Matcher>]) -> bool {
    sets.is_empty()
        || sets.iter().any(|set| set.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))))
}

fn alerting_row(r: &AlertingRule, rule: &Rule, exclude_alerts: bool) -> ApiAlertingRule {
    let (health, err, ts, dur) = rule.status();
    ApiAlertingRule {
        state: r.rule_state().as_str().to_string(),
        name: r.name().to_string(),
        query: r.query().to_string(),
        duration: GoF64(r.hold_ms() as f64 / 1000.0),
        keep_firing_for: GoF64(r.keep_firing_for_ms() as f64 / 1000.0),
        labels: JsonLabels(r.labels().clone()),
        annotations: JsonLabels(r.annotations().clone()),
        alerts: (!exclude_alerts)
            .then(|| r.active_alerts().iter().map(ApiAlert::from_alert).collect()),
        health: health.as_str().to_string(),
        last_error: err.unwrap_or_default(),
        evaluation_time: GoF64(dur),
        last_evaluation: JsonTime(ts),
        kind: "alerting",
    }
}

fn rule_row(rule: &Rule, f: &RulesFilter) -> Option<ApiRule> {
    match rule {
        Rule::Alerting(r) => (f.kind.as_deref() != Some("record"))
            .then(|| ApiRule::Alerting(alerting_row(r, rule, f.exclude_alerts))),
        Rule::Recording(r) => (f.kind.as_deref() != Some("alert")).then(|| {
            let (health, err, ts, dur) = rule.status();
            ApiRule::Recording(ApiRecordingRule {
                name: r.name().to_string(),
                query: r.query().to_string(),
                labels: JsonLabels(r.labels().clone()),
                health: health.as_str().to_string(),
                last_error: err.unwrap_or_default(),
                evaluation_time: GoF64(dur),
                last_evaluation: JsonTime(ts),
                kind: "recording",
            })
        }),
    }
}

/// Builds `/api/v1/rules` from groups sorted by file then name.
pub fn rule_discovery(groups: &[Arc<Group>], f: &RulesFilter) -> RuleDiscovery {
    let mut out = Vec::new();
    for g in groups {
        if !f.rule_groups.is_empty() && !f.rule_groups.iter().any(|n| n == g.name()) {
            continue;
        }
        if !f.files.is_empty() && !f.files.iter().any(|n| n == g.file()) {
            continue;
        }
        let rules: Vec<ApiRule> = g
            .rules()
            .iter()
            .filter(|r| labels_match(r.labels(), &f.matcher_sets))
            .filter(|r| f.rule_names.is_empty() || f.rule_names.iter().any(|n| n == r.name()))
            .filter_map(|r| rule_row(r, f))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let (eval_time, last_eval, _) = g.eval_status();
        out.push(ApiRuleGroup {
            name: g.name().to_string(),
            file: g.file().to_string(),
            rules,
            interval: GoF64(g.interval_ms() as f64 / 1000.0),
            limit: g.limit(),
            evaluation_time: GoF64(eval_time),
            last_evaluation: JsonTime(last_eval),
        });
    }
    RuleDiscovery { groups: out }
}

/// Builds `/api/v1/alerts`: the pending and firing alerts of every alerting rule.
pub fn alert_discovery(groups: &[Arc<Group>]) -> AlertDiscovery {
    let mut alerts = Vec::new();
    for g in groups {
        for r in g.rules() {
            if let Rule::Alerting(ar) = r {
                alerts.extend(ar.active_alerts().iter().map(ApiAlert::from_alert));
            }
        }
    }
    AlertDiscovery { alerts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_serialise_as_go() {
        assert_eq!(format_time(None), "0001-01-01T00:00:00Z");
        assert_eq!(format_time(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(Some(1_500)), "1970-01-01T00:00:01.5Z");
    }

    #[test]
    fn floats_serialise_as_go() {
        for (f, want) in [
            (300.0, "300"),
            (0.000012345, "0.000012345"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (0.5, "0.5"),
            (0.0, "0"),
        ] {
            assert_eq!(serde_json::to_string(&GoF64(f)).unwrap(), want);
        }
    }
}
