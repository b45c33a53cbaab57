//! The PagerDuty integration (Events API v2; `service_key` selects the v1 API).

use std::collections::BTreeMap;

use alertmanager::config::PagerdutyConfig;
use serde_json::{Value, json};

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json;

const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";

fn default_details() -> BTreeMap<String, String> {
    [
        ("firing", r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#),
        ("resolved", r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#),
        ("num_firing", "{{ .Alerts.Firing | len }}"),
        ("num_resolved", "{{ .Alerts.Resolved | len }}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn truncate(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Builds the Events v2 body.
pub fn body(
    cfg: &PagerdutyConfig,
    ctx: &NotifyContext,
    routing_key: &str,
) -> Result<Value, NotifyError> {
    let action = if ctx.firing() > 0 { "trigger" } else { "resolve" };
    let description = ctx
        .render(cfg.description.as_deref(), r#"{{ template "pagerduty.default.description" .}}"#)?;
    let details_cfg = if cfg.details.is_empty() { default_details() } else { cfg.details.clone() };
    let mut details = serde_json::Map::new();
    for (k, v) in &details_cfg {
        details.insert(k.clone(), Value::String(ctx.render_opt(Some(v))?));
    }
    let client =
        ctx.render(cfg.client.as_deref(), r#"{{ template "pagerduty.default.client" . }}"#)?;
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": ctx.hashed_group_key(),
        "images": cfg.images,
        "links": cfg.links,
        "client": client,
        "client_url": ctx.render(cfg.client_url.as_deref(), r#"{{ template "pagerduty.default.clientURL" . }}"#)?,
    });
    if action == "trigger" {
        let source = match &cfg.source {
            Some(s) => ctx.render_opt(Some(s))?,
            None => client.clone(),
        };
        body["payload"] = json!({
            "summary": truncate(description, 1024),
            "source": source,
            "severity": ctx.render(cfg.severity.as_deref(), "error")?,
            "custom_details": details,
            "class": ctx.render_opt(cfg.class.as_deref())?,
            "component": ctx.render_opt(cfg.component.as_deref())?,
            "group": ctx.render_opt(cfg.group.as_deref())?,
        });
    }
    Ok(body)
}

pub async fn notify(cfg: &PagerdutyConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    if cfg.service_key.is_some() || cfg.service_key_file.is_some() {
        let key = secret(cfg.service_key.as_deref(), cfg.service_key_file.as_deref())?;
        let body = json!({
            "service_key": key,
            "event_type": if ctx.firing() > 0 { "trigger" } else { "resolve" },
            "incident_key": ctx.hashed_group_key(),
            "description": truncate(ctx.render(cfg.description.as_deref(), r#"{{ template "pagerduty.default.description" .}}"#)?, 1024),
            "client": ctx.render(cfg.client.as_deref(), r#"{{ template "pagerduty.default.client" . }}"#)?,
        });
        let url =
            cfg.url.clone().filter(|u| !u.contains("/v2/")).unwrap_or_else(|| V1_URL.to_string());
        return post_json("pagerduty", &ctx.client, cfg.http_config.as_ref(), &url, &body, &[])
            .await;
    }
    let key = secret(cfg.routing_key.as_deref(), cfg.routing_key_file.as_deref())?;
    let url =
        cfg.url.clone().unwrap_or_else(|| alertmanager::config::DEFAULT_PAGERDUTY_URL.to_string());
    post_json("pagerduty", &ctx.client, cfg.http_config.as_ref(), &url, &body(cfg, ctx, &key)?, &[])
        .await
}
