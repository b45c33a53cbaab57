//! The webhook integration: Alertmanager's JSON payload, version 4.
//!
//! [`message`] builds the payload as owned values (for tests and readers of payloads);
//! [`encode`] writes the same JSON straight from the template data, in Go's field order,
//! without the intermediate maps, which is what is sent.

use std::collections::BTreeMap;

use alertmanager::config::WebhookConfig;
use alertmanager::template::TemplateData;
use alertmanager::timefmt::format_go;
use model::Labels;
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json_bytes;

/// One alert in the payload.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct WebhookAlert {
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    pub fingerprint: String,
}

/// The payload, field for field as Alertmanager 0.25 writes it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct WebhookMessage {
    pub receiver: String,
    pub status: String,
    pub alerts: Vec<WebhookAlert>,
    #[serde(rename = "groupLabels")]
    pub group_labels: BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    pub common_labels: BTreeMap<String, String>,
    #[serde(rename = "commonAnnotations")]
    pub common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    pub external_url: String,
    pub version: String,
    #[serde(rename = "groupKey")]
    pub group_key: String,
    #[serde(rename = "truncatedAlerts")]
    pub truncated_alerts: u64,
}

fn map(l: &Labels) -> BTreeMap<String, String> {
    l.iter().map(|p| (p.name.to_string(), p.value.to_string())).collect()
}

/// Builds the payload, keeping at most `max_alerts` alerts (0 = all).
pub fn message(data: &TemplateData, group_key: &str, max_alerts: u64) -> WebhookMessage {
    let total = data.alerts.len() as u64;
    let keep = if max_alerts > 0 && total > max_alerts { max_alerts } else { total };
    let alerts = data
        .alerts
        .iter()
        .take(usize::try_from(keep).unwrap_or(usize::MAX))
        .map(|a| WebhookAlert {
            status: a.status.to_string(),
            labels: map(&a.labels),
            annotations: map(&a.annotations),
            starts_at: format_go(a.starts_at),
            ends_at: format_go(a.ends_at),
            generator_url: a.generator_url.clone(),
            fingerprint: a.fingerprint.clone(),
        })
        .collect();
    WebhookMessage {
        receiver: data.receiver.clone(),
        status: data.status.to_string(),
        alerts,
        group_labels: map(&data.group_labels),
        common_labels: map(&data.common_labels),
        common_annotations: map(&data.common_annotations),
        external_url: data.external_url.clone(),
        version: "4".into(),
        group_key: group_key.to_string(),
        truncated_alerts: total - keep,
    }
}

/// A label set written as a JSON object (labels are sorted by name, like Go's map keys).
struct LabelMap<'a>(&'a Labels);

impl Serialize for LabelMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for p in self.0.iter() {
            m.serialize_entry(&*p.name, &*p.value)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct AlertRef<'a> {
    status: &'a str,
    labels: LabelMap<'a>,
    annotations: LabelMap<'a>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct MessageRef<'a> {
    receiver: &'a str,
    status: &'a str,
    alerts: Vec<AlertRef<'a>>,
    #[serde(rename = "groupLabels")]
    group_labels: LabelMap<'a>,
    #[serde(rename = "commonLabels")]
    common_labels: LabelMap<'a>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: LabelMap<'a>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'a str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: u64,
}

/// The JSON body of [`message`]`(data, group_key, max_alerts)`, encoded directly.
pub fn encode(
    data: &TemplateData,
    group_key: &str,
    max_alerts: u64,
) -> Result<Vec<u8>, NotifyError> {
    let total = data.alerts.len() as u64;
    let keep = if max_alerts > 0 && total > max_alerts { max_alerts } else { total };
    let alerts = data
        .alerts
        .iter()
        .take(usize::try_from(keep).unwrap_or(usize::MAX))
        .map(|a| AlertRef {
            status: a.status,
            labels: LabelMap(&a.labels),
            annotations: LabelMap(&a.annotations),
            starts_at: format_go(a.starts_at),
            ends_at: format_go(a.ends_at),
            generator_url: &a.generator_url,
            fingerprint: &a.fingerprint,
        })
        .collect();
    let msg = MessageRef {
        receiver: &data.receiver,
        status: data.status,
        alerts,
        group_labels: LabelMap(&data.group_labels),
        common_labels: LabelMap(&data.common_labels),
        common_annotations: LabelMap(&data.common_annotations),
        external_url: &data.external_url,
        version: "4",
        group_key,
        truncated_alerts: total - keep,
    };
    let mut out = Vec::with_capacity(512 + 512 * msg.alerts.len());
    serde_json::to_writer(&mut out, &msg).map_err(|e| NotifyError::permanent(e.to_string()))?;
    Ok(out)
}

/// Sends the payload.
pub async fn notify(cfg: &WebhookConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let url = secret(cfg.url.as_deref(), cfg.url_file.as_deref())?;
    let body = encode(&ctx.data, &ctx.group_key, cfg.max_alerts)?;
    post_json_bytes("webhook", &ctx.client, cfg.http_config.as_ref(), &url, body, &[]).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use alertmanager::template::TemplateAlert;

    fn data(n: usize) -> TemplateData {
        let alerts = (0..n)
            .map(|i| TemplateAlert {
                status: if i % 2 == 0 { "firing" } else { "resolved" },
                labels: Labels::new([
                    ("alertname", "Disk".to_string()),
                    ("instance", format!("h{i}")),
                    ("Z", "upper \"quoted\"".into()),
                ]),
                annotations: Labels::new([("summary", "ünïcode\n")]),
                starts_at: 1_800_000_000_123,
                ends_at: alertmanager::timefmt::GO_ZERO_MS,
                generator_url: "http://p/graph?g0.expr=up".into(),
                fingerprint: format!("{i:016x}"),
            })
            .collect();
        TemplateData {
            receiver: "team\\.a".into(),
            status: "firing",
            alerts,
            group_labels: Labels::new([("alertname", "Disk")]),
            common_labels: Labels::new([("alertname", "Disk")]),
            common_annotations: Labels::empty(),
            external_url: "http://am:9093".into(),
        }
    }

    #[test]
    fn encoded_body_equals_the_payload_message() {
        for (n, max) in [(0, 0), (1, 0), (4, 0), (4, 3), (4, 4), (4, 9)] {
            let d = data(n);
            let bytes = encode(&d, "{}:{alertname=\"Disk\"}", max).unwrap();
            let got: WebhookMessage = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(got, message(&d, "{}:{alertname=\"Disk\"}", max), "{n} alerts, max {max}");
        }
    }

    #[test]
    fn encoded_body_has_go_field_order() {
        let text = String::from_utf8(encode(&data(1), "k", 0).unwrap()).unwrap();
        let keys = [
            "\"receiver\"",
            "\"status\"",
            "\"alerts\"",
            "\"labels\"",
            "\"annotations\"",
            "\"startsAt\"",
            "\"endsAt\"",
            "\"generatorURL\"",
            "\"fingerprint\"",
            "\"groupLabels\"",
            "\"commonLabels\"",
            "\"commonAnnotations\"",
            "\"externalURL\"",
            "\"version\"",
            "\"groupKey\"",
            "\"truncatedAlerts\"",
        ];
        let at: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(
            text.contains("\"labels\":{\"Z\":\"upper \\\"quoted\\\"\",\"alertname\""),
            "{text}"
        );
    }
}
