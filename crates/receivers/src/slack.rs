//! The Slack integration: one attachment per notification, Alertmanager's defaults.

use alertmanager::config::SlackConfig;
use serde_json::{Value, json};

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json;

const DEFAULT_COLOR: &str = r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#;

/// Builds the request body.
pub fn body(cfg: &SlackConfig, ctx: &NotifyContext) -> Result<Value, NotifyError> {
    let r = |field: &Option<String>, default: &str| ctx.render(field.as_deref(), default);
    let fields: Vec<Value> = cfg
        .fields
        .iter()
        .map(|f| {
            Ok(json!({
                "title": ctx.render_opt(Some(&f.title))?,
                "value": ctx.render_opt(Some(&f.value))?,
                "short": f.short.unwrap_or(cfg.short_fields),
            }))
        })
        .collect::<Result<_, NotifyError>>()?;
    let mrkdwn_in = if cfg.mrkdwn_in.is_empty() {
        vec!["fallback".into(), "pretext".into(), "text".into()]
    } else {
        cfg.mrkdwn_in.clone()
    };
    let mut attachment = json!({
        "title": r(&cfg.title, r#"{{ template "slack.default.title" . }}"#)?,
        "title_link": r(&cfg.title_link, r#"{{ template "slack.default.titlelink" . }}"#)?,
        "pretext": r(&cfg.pretext, r#"{{ template "slack.default.pretext" . }}"#)?,
        "text": r(&cfg.text, r#"{{ template "slack.default.text" . }}"#)?,
        "fallback": r(&cfg.fallback, r#"{{ template "slack.default.fallback" . }}"#)?,
        "callback_id": r(&cfg.callback_id, r#"{{ template "slack.default.callbackid" . }}"#)?,
        "footer": r(&cfg.footer, r#"{{ template "slack.default.footer" . }}"#)?,
        "color": r(&cfg.color, DEFAULT_COLOR)?,
        "mrkdwn_in": mrkdwn_in,
    });
    if !fields.is_empty() {
        attachment["fields"] = Value::Array(fields);
    }
    for (key, v) in [("image_url", &cfg.image_url), ("thumb_url", &cfg.thumb_url)] {
        if let Some(v) = v {
            attachment[key] = Value::String(v.clone());
        }
    }
    if !cfg.actions.is_empty() {
        attachment["actions"] = Value::Array(cfg.actions.clone());
    }
    Ok(json!({
        "channel": r(&cfg.channel, "")?,
        "username": r(&cfg.username, r#"{{ template "slack.default.username" . }}"#)?,
        "icon_emoji": r(&cfg.icon_emoji, r#"{{ template "slack.default.iconemoji" . }}"#)?,
        "icon_url": r(&cfg.icon_url, r#"{{ template "slack.default.iconurl" . }}"#)?,
        "link_names": cfg.link_names,
        "attachments": [attachment],
    }))
}

pub async fn notify(cfg: &SlackConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let url = secret(cfg.api_url.as_deref(), cfg.api_url_file.as_deref())?;
    post_json("slack", &ctx.client, cfg.http_config.as_ref(), &url, &body(cfg, ctx)?, &[]).await
}
