//! Read views the server implements over its managers (scrape, rules, notifier, TSDB, config),
//! with row types that serialise to Prometheus' JSON exactly. The API never names a concrete
//! manager. Every view has an empty implementation ([`NoViews`]) for tests and agent mode.

use std::collections::BTreeMap;

use model::{Labels, Matcher};
use serde::{Serialize, Serializer};

use crate::json::format_go_time;

/// Serialises a label set as a JSON object in label order.
pub fn ser_labels<S: Serializer>(labels: &Labels, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(labels.len()))?;
    for l in labels.iter() {
        m.serialize_entry(&*l.name, &*l.value)?;
    }
    m.end()
}

/// Serialises a float as Go's `encoding/json` does (integral values without `.0`).
pub fn ser_go_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// A wall-clock time in milliseconds, serialised as Go's `time.Time` (RFC 3339, UTC);
/// `GoTime(None)` is Go's zero time `0001-01-01T00:00:00Z` ("never").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoTime(pub Option<i64>);

impl Serialize for GoTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_go_time(self.0))
    }
}

// ---------------------------------------------------------------- targets

/// One active target (`/api/v1/targets` `activeTargets[]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveTarget {
    #[serde(serialize_with = "ser_labels")]
    pub discovered_labels: Labels,
    #[serde(serialize_with = "ser_labels")]
    pub labels: Labels,
    pub scrape_pool: String,
    pub scrape_url: String,
    pub global_url: String,
    pub last_error: String,
    pub last_scrape: GoTime,
    /// Seconds.
    #[serde(serialize_with = "ser_go_float")]
    pub last_scrape_duration: f64,
    /// "up", "down" or "unknown".
    pub health: String,
    pub scrape_interval: String,
    pub scrape_timeout: String,
}

/// One target dropped by relabeling (`droppedTargets[]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    #[serde(serialize_with = "ser_labels")]
    pub discovered_labels: Labels,
    pub scrape_pool: String,
}

/// Metadata of one metric family as a target exposes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MetricMetadata {
    /// The metric family name (not serialised in `/api/v1/metadata` rows).
    #[serde(skip)]
    pub metric_family: String,
    /// "counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown".
    #[serde(rename = "type")]
    pub typ: String,
    pub help: String,
    pub unit: String,
}

/// The scrape manager as the API sees it.
pub trait TargetsView: Send + Sync {
    /// The names of the scrape pools, in any order (the API sorts them).
    fn scrape_pools(&self) -> Vec<String>;
    /// Active targets, grouped by scrape pool in any order (the API sorts pools).
    fn active_targets(&self) -> Vec<ActiveTarget>;
    /// Targets dropped by relabeling (may be capped by `keep_dropped_targets`).
    fn dropped_targets(&self) -> Vec<DroppedTarget>;
    /// For each active target: its labels and the metadata of every metric it exposes.
    fn target_metadata(&self) -> Vec<(Labels, Vec<MetricMetadata>)>;
}

// ---------------------------------------------------------------- rules and alerts

/// One active alert (`/api/v1/alerts`, and `alerts[]` of an alerting rule).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(serialize_with = "ser_labels")]
    pub labels: Labels,
    #[serde(serialize_with = "ser_labels")]
    pub annotations: Labels,
    /// "pending" or "firing".
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_at: Option<GoTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<GoTime>,
    /// The value as Go's `strconv.FormatFloat(v, 'e', -1, 64)`; see [`format_alert_value`].
    pub value: String,
}

/// Formats an alert value as Prometheus does (`1e+00`, `2.5e-01`).
pub fn format_alert_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    if digits.len() < 2 {
        format!("{mant}e{sign}0{digits}")
    } else {
        format!("{mant}e{sign}{digits}")
    }
}

/// An alerting rule row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertingRule {
    /// "pending", "firing" or "inactive".
    pub state: String,
    pub name: String,
    pub query: String,
    /// The `for` duration in seconds.
    #[serde(serialize_with = "ser_go_float")]
    pub duration: f64,
    #[serde(serialize_with = "ser_go_float")]
    pub keep_firing_for: f64,
    #[serde(serialize_with = "ser_labels")]
    pub labels: Labels,
    #[serde(serialize_with = "ser_labels")]
    pub annotations: Labels,
    /// The rule's active alerts; `None` renders `null` (the API sets it for `exclude_alerts`).
    pub alerts: Option<Vec<Alert>>,
    /// "ok", "err" or "unknown".
    pub health: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    #[serde(serialize_with = "ser_go_float")]
    pub evaluation_time: f64,
    pub last_evaluation: GoTime,
}

/// A recording rule row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRule {
    pub name: String,
    pub query: String,
    #[serde(serialize_with = "ser_labels")]
    pub labels: Labels,
    pub health: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_error: String,
    #[serde(serialize_with = "ser_go_float")]
    pub evaluation_time: f64,
    pub last_evaluation: GoTime,
}

/// A rule of either kind; serialised with `"type": "alerting" | "recording"` last, as Prometheus.
#[derive(Debug, Clone)]
pub enum Rule {
    Alerting(AlertingRule),
    Recording(RecordingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Alerting(r) => &r.name,
            Rule::Recording(r) => &r.name,
        }
    }

    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Alerting(r) => &r.labels,
            Rule::Recording(r) => &r.labels,
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T> {
            #[serde(flatten)]
            rule: &'a T,
            #[serde(rename = "type")]
            typ: &'static str,
        }
        match self {
            Rule::Alerting(r) => Tagged { rule: r, typ: "alerting" }.serialize(s),
            Rule::Recording(r) => Tagged { rule: r, typ: "recording" }.serialize(s),
        }
    }
}

/// A rule group row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    pub name: String,
    pub file: String,
    pub rules: Vec<Rule>,
    /// Seconds.
    #[serde(serialize_with = "ser_go_float")]
    pub interval: f64,
    pub limit: i64,
    #[serde(serialize_with = "ser_go_float")]
    pub evaluation_time: f64,
    pub last_evaluation: GoTime,
}

/// The rule manager as the API sees it; `/api/v1/alerts` is derived from the alerting rules.
pub trait RulesView: Send + Sync {
    /// Every rule group in configuration order, each rule with its active alerts.
    fn rule_groups(&self) -> Vec<RuleGroup>;
}

// ---------------------------------------------------------------- alertmanagers

/// The notifier as the API sees it.
pub trait AlertmanagersView: Send + Sync {
    /// URLs of the Alertmanagers alerts are sent to (`.../api/v2/alerts`).
    fn active(&self) -> Vec<String>;
    /// URLs dropped by relabeling.
    fn dropped(&self) -> Vec<String>;
}

// ---------------------------------------------------------------- TSDB

/// One `{"name","value"}` cardinality row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TsdbStat {
    pub name: String,
    pub value: u64,
}

/// `headStats` of `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadStats {
    pub num_series: u64,
    pub num_label_pairs: i64,
    pub chunk_count: i64,
    pub min_time: i64,
    pub max_time: i64,
}

/// `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TsdbStatus {
    pub head_stats: HeadStats,
    pub series_count_by_metric_name: Vec<TsdbStat>,
    pub label_value_count_by_label_name: Vec<TsdbStat>,
    pub memory_in_bytes_by_label_name: Vec<TsdbStat>,
    pub series_count_by_label_value_pair: Vec<TsdbStat>,
}

/// `/api/v1/status/walreplay`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WalReplayStatus {
    pub min: i64,
    pub max: i64,
    pub current: i64,
}

/// The TSDB's status and admin operations. Errors are messages for an `internal` error.
pub trait TsdbView: Send + Sync {
    /// Head statistics and the top-`limit` cardinality lists.
    fn status(&self, limit: usize) -> Result<TsdbStatus, String>;
    fn wal_replay(&self) -> Result<WalReplayStatus, String>;
    /// Writes a snapshot under `<data dir>/snapshots/<name>` and returns `name`.
    fn snapshot(&self, skip_head: bool) -> Result<String, String>;
    /// Deletes the samples of series matching `matchers` in `[mint, maxt]` (tombstones).
    fn delete_series(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Result<(), String>;
    fn clean_tombstones(&self) -> Result<(), String>;
}

// ---------------------------------------------------------------- config, flags, runtime

/// `/api/v1/status/runtimeinfo` (Prometheus' field names, Go-specific ones filled sensibly).
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeInfo {
    #[serde(rename = "startTime")]
    pub start_time: GoTime,
    #[serde(rename = "CWD")]
    pub cwd: String,
    pub hostname: String,
    #[serde(rename = "serverTime")]
    pub server_time: GoTime,
    #[serde(rename = "reloadConfigSuccess")]
    pub reload_config_success: bool,
    #[serde(rename = "lastConfigTime")]
    pub last_config_time: GoTime,
    #[serde(rename = "corruptionCount")]
    pub corruption_count: i64,
    #[serde(rename = "goroutineCount")]
    pub goroutine_count: i64,
    #[serde(rename = "GOMAXPROCS")]
    pub gomaxprocs: i64,
    #[serde(rename = "GOMEMLIMIT")]
    pub gomemlimit: i64,
    #[serde(rename = "GOGC")]
    pub gogc: String,
    #[serde(rename = "GODEBUG")]
    pub godebug: String,
    #[serde(rename = "storageRetention")]
    pub storage_retention: String,
}

/// The loaded configuration and process state.
pub trait ConfigView: Send + Sync {
    /// The effective configuration as YAML (`/api/v1/status/config`).
    fn config_yaml(&self) -> String;
    /// Command-line flags by name without dashes (`/api/v1/status/flags`).
    fn flags(&self) -> BTreeMap<String, String>;
    /// Runtime information at the time of the call.
    fn runtime_info(&self) -> RuntimeInfo;
}

/// Build information (`/api/v1/status/buildinfo`). The version must be >= 2.24 for Grafana's
/// fast paths, and there is deliberately no `features` map (Grafana would assume Mimir).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    pub version: String,
    pub revision: String,
    pub branch: String,
    pub build_user: String,
    pub build_date: String,
    pub go_version: String,
}

impl Default for BuildInfo {
    fn default() -> Self {
        BuildInfo {
            version: "3.0.0".into(),
            revision: String::new(),
            branch: String::new(),
            build_user: String::new(),
            build_date: String::new(),
            go_version: String::new(),
        }
    }
}

/// Empty implementations of every view (nothing configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoViews;

impl TargetsView for NoViews {
    fn scrape_pools(&self) -> Vec<String> {
        Vec::new()
    }
    fn active_targets(&self) -> Vec<ActiveTarget> {
        Vec::new()
    }
    fn dropped_targets(&self) -> Vec<DroppedTarget> {
        Vec::new()
    }
    fn target_metadata(&self) -> Vec<(Labels, Vec<MetricMetadata>)> {
        Vec::new()
    }
}

impl RulesView for NoViews {
    fn rule_groups(&self) -> Vec<RuleGroup> {
        Vec::new()
    }
}

impl AlertmanagersView for NoViews {
    fn active(&self) -> Vec<String> {
        Vec::new()
    }
    fn dropped(&self) -> Vec<String> {
        Vec::new()
    }
}

impl TsdbView for NoViews {
    fn status(&self, _limit: usize) -> Result<TsdbStatus, String> {
        Ok(TsdbStatus::default())
    }
    fn wal_replay(&self) -> Result<WalReplayStatus, String> {
        Ok(WalReplayStatus::default())
    }
    fn snapshot(&self, _skip_head: bool) -> Result<String, String> {
        Err("snapshots are not supported by this storage".into())
    }
    fn delete_series(&self, _m: &[Matcher], _mint: i64, _maxt: i64) -> Result<(), String> {
        Err("deletion is not supported by this storage".into())
    }
    fn clean_tombstones(&self) -> Result<(), String> {
        Ok(())
    }
}

impl ConfigView for NoViews {
    fn config_yaml(&self) -> String {
        String::new()
    }
    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn runtime_info(&self) -> RuntimeInfo {
        RuntimeInfo {
            start_time: GoTime(None),
            cwd: String::new(),
            hostname: String::new(),
            server_time: GoTime(None),
            reload_config_success: true,
            last_config_time: GoTime(None),
            corruption_count: 0,
            goroutine_count: 0,
            gomaxprocs: 0,
            gomemlimit: 0,
            gogc: String::new(),
            godebug: String::new(),
            storage_retention: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_values_use_go_e_format() {
        assert_eq!(format_alert_value(1.0), "1e+00");
        assert_eq!(format_alert_value(0.25), "2.5e-01");
        assert_eq!(format_alert_value(12345.0), "1.2345e+04");
    }

    #[test]
    fn rules_are_tagged_last() {
        let r = Rule::Recording(RecordingRule {
            name: "r".into(),
            query: "up".into(),
            labels: Labels::empty(),
            health: "ok".into(),
            last_error: String::new(),
            evaluation_time: 0.0,
            last_evaluation: GoTime(Some(0)),
        });
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"name":"r","query":"up","labels":{},"health":"ok","evaluationTime":0,"lastEvaluation":"1970-01-01T00:00:00Z","type":"recording"}"#
        );
    }
}
