//! The webhook integration: Alertmanager's JSON payload, version 4.

use std::collections::BTreeMap;

use alertmanager::config::WebhookConfig;
use alertmanager::template::TemplateData;
use alertmanager::timefmt::format_go;
use model::Labels;
use serde::Serialize;

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json;

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

/// Sends the payload.
pub async fn notify(cfg: &WebhookConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let url = secret(cfg.url.as_deref(), cfg.url_file.as_deref())?;
    let body = serde_json::to_value(message(&ctx.data, &ctx.group_key, cfg.max_alerts))
        .map_err(|e| NotifyError::permanent(e.to_string()))?;
    post_json("webhook", &ctx.client, cfg.http_config.as_ref(), &url, &body, &[]).await
}
