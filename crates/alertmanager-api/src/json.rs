//! The API v2 JSON shapes (Alertmanager 0.25's OpenAPI models), to and from the core's types.

use std::collections::BTreeMap;

use alertmanager::timefmt::{format_api, parse_api};
use alertmanager::{
    AlertView, GroupView, PostableAlert, Silence, SilenceMatcher, fingerprint_string,
};
use model::Labels;
use serde::Deserialize;
use serde_json::{Value, json};

fn label_map(l: &Labels) -> Value {
    let m: serde_json::Map<String, Value> =
        l.iter().map(|p| (p.name.to_string(), Value::String(p.value.to_string()))).collect();
    Value::Object(m)
}

/// `gettableAlert`. An empty `generatorURL` is left out (`omitempty` in Alertmanager's model).
pub fn alert(v: &AlertView) -> Value {
    let a = &v.alert;
    let mut out = json!({
        "annotations": label_map(&a.annotations),
        "endsAt": format_api(a.ends_at),
        "fingerprint": fingerprint_string(v.fingerprint),
        "receivers": v.receivers.iter().map(|r| json!({"name": r})).collect::<Vec<_>>(),
        "startsAt": format_api(a.starts_at),
        "status": {
            "inhibitedBy": v.inhibited_by,
            "silencedBy": v.silenced_by,
            "state": v.state,
        },
        "updatedAt": format_api(a.updated_at),
        "generatorURL": a.generator_url,
        "labels": label_map(&a.labels),
    });
    if a.generator_url.is_empty()
        && let Some(m) = out.as_object_mut()
    {
        m.remove("generatorURL");
    }
    out
}

/// `alertGroup`.
pub fn group(g: &GroupView) -> Value {
    json!({
        "alerts": g.alerts.iter().map(alert).collect::<Vec<_>>(),
        "labels": label_map(&g.labels),
        "receiver": {"name": g.receiver},
    })
}

/// `gettableSilence`.
pub fn silence(s: &Silence, now: i64) -> Value {
    json!({
        "id": s.id,
        "status": {"state": s.state(now).as_str()},
        "updatedAt": format_api(s.updated_at),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": format_api(s.ends_at),
        "matchers": s.matchers,
        "startsAt": format_api(s.starts_at),
    })
}

/// `postableAlert` as sent by Prometheus and amtool.
#[derive(Debug, Deserialize)]
pub struct PostableAlertJson {
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, rename = "startsAt")]
    pub starts_at: Option<String>,
    #[serde(default, rename = "endsAt")]
    pub ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: String,
}

fn time_field(v: &Option<String>, name: &str) -> Result<Option<i64>, String> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => parse_api(s)
            .map(Some)
            .ok_or_else(|| format!("{name} in body must be of type date-time: {s:?}")),
    }
}

impl PostableAlertJson {
    /// The alert, or why its times are invalid.
    pub fn into_postable(self) -> Result<PostableAlert, String> {
        let labels = Labels::new(self.labels);
        let starts_at = time_field(&self.starts_at, "startsAt")?;
        let ends_at = time_field(&self.ends_at, "endsAt")?;
        Ok(PostableAlert {
            starts_at,
            ends_at,
            labels,
            annotations: Labels::new(self.annotations),
            generator_url: self.generator_url,
        })
    }
}

/// `postableSilence`.
#[derive(Debug, Deserialize)]
pub struct PostableSilenceJson {
    #[serde(default)]
    pub id: String,
    pub matchers: Vec<SilenceMatcher>,
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    pub comment: String,
}

impl PostableSilenceJson {
    pub fn into_silence(self) -> Result<Silence, String> {
        let starts_at =
            time_field(&Some(self.starts_at), "startsAt")?.ok_or("startsAt in body is required")?;
        let ends_at =
            time_field(&Some(self.ends_at), "endsAt")?.ok_or("endsAt in body is required")?;
        Ok(Silence {
            id: self.id,
            matchers: self.matchers,
            starts_at,
            ends_at,
            updated_at: 0,
            created_by: self.created_by,
            comment: self.comment,
        })
    }
}
