//! The alert exchanged between rules, the notifier and Alertmanagers.
//!
//! Times are milliseconds since the epoch; `0` means "unset" (Go's zero time), which
//! serialises as `0001-01-01T00:00:00.000Z` as Prometheus' `strfmt.DateTime` does.

use chrono::{DateTime, SecondsFormat};
use model::Labels;
use serde_json::{Map, Value};

/// One alert as sent to an Alertmanager.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    /// When the alert started firing (ms); 0 if unknown.
    pub starts_at_ms: i64,
    /// When the alert ends (resolved time, or the validity end of a firing alert) (ms); 0 if unset.
    pub ends_at_ms: i64,
    pub generator_url: String,
}

impl Alert {
    /// The alert's name (`alertname` label), or "".
    pub fn name(&self) -> &str {
        self.labels.get("alertname").unwrap_or("")
    }

    /// True if the alert is resolved at `now_ms` (endsAt set and not after now).
    pub fn resolved_at(&self, now_ms: i64) -> bool {
        self.ends_at_ms != 0 && self.ends_at_ms <= now_ms
    }

    /// The alert as Alertmanager API v2 `PostableAlert` JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("annotations".into(), labels_json(&self.annotations));
        m.insert("endsAt".into(), Value::String(format_time(self.ends_at_ms)));
        m.insert("startsAt".into(), Value::String(format_time(self.starts_at_ms)));
        m.insert("generatorURL".into(), Value::String(self.generator_url.clone()));
        m.insert("labels".into(), labels_json(&self.labels));
        Value::Object(m)
    }
}

/// A batch as the JSON array body of `POST /api/v2/alerts`.
pub fn alerts_to_json(alerts: &[Alert]) -> Value {
    Value::Array(alerts.iter().map(Alert::to_json).collect())
}

fn labels_json(l: &Labels) -> Value {
    let m: Map<String, Value> =
        l.iter().map(|l| (l.name.to_string(), Value::String(l.value.to_string()))).collect();
    Value::Object(m)
}

/// RFC 3339 with milliseconds in UTC, as `strfmt.DateTime`; 0 is Go's zero time.
pub fn format_time(ms: i64) -> String {
    if ms == 0 {
        return "0001-01-01T00:00:00.000Z".to_string();
    }
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => "0001-01-01T00:00:00.000Z".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_postable_alert() {
        let a = Alert {
            labels: Labels::new([("alertname", "X"), ("job", "j")]),
            annotations: Labels::new([("summary", "s")]),
            starts_at_ms: 1_700_000_000_123,
            ends_at_ms: 0,
            generator_url: "http://p/graph".into(),
        };
        let j = a.to_json();
        assert_eq!(j["startsAt"], "2023-11-14T22:13:20.123Z");
        assert_eq!(j["endsAt"], "0001-01-01T00:00:00.000Z");
        assert_eq!(j["labels"]["alertname"], "X");
        assert_eq!(j["annotations"]["summary"], "s");
        assert_eq!(j["generatorURL"], "http://p/graph");
        assert!(!a.resolved_at(1));
    }
}
