//! Alertmanager's template data (`template.Data`) built from a notification, and its
//! conversion to a gotmpl value.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;
use model::Labels;

use crate::alert::{Alert, fingerprint_string};
use crate::timefmt::{date_time, is_zero, push_fraction};

/// One alert in template data.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateAlert {
    pub status: &'static str,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: String,
    pub fingerprint: String,
}

/// `template.Data`.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateData {
    pub receiver: String,
    pub status: &'static str,
    pub alerts: Vec<TemplateAlert>,
    pub group_labels: Labels,
    pub common_labels: Labels,
    pub common_annotations: Labels,
    pub external_url: String,
}

/// Go's `regexp.QuoteMeta`, which Alertmanager applies to receiver names.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn common(sets: &[&Labels]) -> Labels {
    let Some(first) = sets.first() else { return Labels::empty() };
    first.filter(|l| sets[1..].iter().all(|s| s.get(&l.name) == Some(&*l.value)))
}

/// Builds template data for alerts sent to `receiver` (alerts as the flush prepared them).
pub fn template_data(
    receiver: &str,
    group_labels: &Labels,
    alerts: &[Alert],
    external_url: &str,
    now: i64,
) -> TemplateData {
    let mut firing = false;
    let list: Vec<TemplateAlert> = alerts
        .iter()
        .map(|a| {
            let resolved = a.resolved_at(now);
            firing |= !resolved;
            TemplateAlert {
                status: if resolved { "resolved" } else { "firing" },
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                generator_url: a.generator_url.clone(),
                fingerprint: fingerprint_string(a.fingerprint()),
            }
        })
        .collect();
    let labels: Vec<&Labels> = alerts.iter().map(|a| &a.labels).collect();
    let annotations: Vec<&Labels> = alerts.iter().map(|a| &a.annotations).collect();
    TemplateData {
        receiver: quote_meta(receiver),
        status: if firing { "firing" } else { "resolved" },
        alerts: list,
        group_labels: group_labels.clone(),
        common_labels: common(&labels),
        common_annotations: common(&annotations),
        external_url: external_url.to_string(),
    }
}

/// Go's `time.Time.String()` for UTC times.
pub fn go_time_string(ms: i64) -> String {
    let mut s = date_time(ms, ' ');
    if !is_zero(ms) {
        push_fraction(&mut s, ms);
    }
    s.push_str(" +0000 UTC");
    s
}

fn s(v: &str) -> Value {
    Value::String(Arc::from(v))
}

/// A label set as a template map (ranges in key order, like Go's sorted map iteration).
pub fn kv(l: &Labels) -> Value {
    let m: BTreeMap<Arc<str>, Value> = l
        .iter()
        .map(|p| (Arc::from(p.name.as_str()), Value::String(Arc::from(p.value.as_str()))))
        .collect();
    Value::Map(Arc::new(m))
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(Arc::new(entries.into_iter().map(|(k, v)| (Arc::from(k), v)).collect()))
}

impl TemplateAlert {
    fn to_value(&self) -> Value {
        map(vec![
            ("Status", s(self.status)),
            ("Labels", kv(&self.labels)),
            ("Annotations", kv(&self.annotations)),
            ("StartsAt", s(&go_time_string(self.starts_at))),
            ("EndsAt", s(&go_time_string(self.ends_at))),
            ("GeneratorURL", s(&self.generator_url)),
            ("Fingerprint", s(&self.fingerprint)),
        ])
    }
}

impl TemplateData {
    /// The gotmpl value; `.Alerts.Firing`/`.Alerts.Resolved` are reached through the
    /// rewritten names `.AlertsFiring`/`.AlertsResolved`.
    pub fn to_value(&self) -> Value {
        let all: Vec<Value> = self.alerts.iter().map(TemplateAlert::to_value).collect();
        let pick = |st: &str| -> Value {
            Value::List(
                self.alerts
                    .iter()
                    .filter(|a| a.status == st)
                    .map(TemplateAlert::to_value)
                    .collect(),
            )
        };
        map(vec![
            ("Receiver", s(&self.receiver)),
            ("Status", s(self.status)),
            ("Alerts", Value::List(all.into())),
            ("AlertsFiring", pick("firing")),
            ("AlertsResolved", pick("resolved")),
            ("GroupLabels", kv(&self.group_labels)),
            ("CommonLabels", kv(&self.common_labels)),
            ("CommonAnnotations", kv(&self.common_annotations)),
            ("ExternalURL", s(&self.external_url)),
        ])
    }
}
