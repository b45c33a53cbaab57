//! The Opsgenie integration: create (firing) or close (resolved) by alias.

use alertmanager::config::OpsgenieConfig;
use serde_json::{Value, json};

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json;

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// The create request body.
pub fn create_body(cfg: &OpsgenieConfig, ctx: &NotifyContext) -> Result<Value, NotifyError> {
    let mut details = serde_json::Map::new();
    for (k, v) in &cfg.details {
        details.insert(k.clone(), Value::String(ctx.render_opt(Some(v))?));
    }
    let message: String = ctx
        .render(cfg.message.as_deref(), r#"{{ template "opsgenie.default.message" . }}"#)?
        .chars()
        .take(130)
        .collect();
    let mut body = json!({
        "alias": ctx.hashed_group_key(),
        "message": message,
        "description": ctx.render(cfg.description.as_deref(), r#"{{ template "opsgenie.default.description" . }}"#)?,
        "details": details,
        "source": ctx.render(cfg.source.as_deref(), r#"{{ template "opsgenie.default.source" . }}"#)?,
        "tags": split_list(&ctx.render_opt(cfg.tags.as_deref())?),
        "note": ctx.render_opt(cfg.note.as_deref())?,
        "priority": ctx.render_opt(cfg.priority.as_deref())?,
        "entity": ctx.render_opt(cfg.entity.as_deref())?,
        "actions": split_list(&ctx.render_opt(cfg.actions.as_deref())?),
    });
    if !cfg.responders.is_empty() {
        body["responders"] = Value::Array(cfg.responders.clone());
    }
    Ok(body)
}

pub async fn notify(cfg: &OpsgenieConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let key = secret(cfg.api_key.as_deref(), cfg.api_key_file.as_deref())?;
    let base = cfg
        .api_url
        .clone()
        .unwrap_or_else(|| alertmanager::config::DEFAULT_OPSGENIE_URL.to_string());
    let base = base.trim_end_matches('/');
    let auth = [("Authorization", format!("GenieKey {key}"))];
    if ctx.firing() == 0 {
        let url = format!("{base}/v2/alerts/{}/close?identifierType=alias", ctx.hashed_group_key());
        let body = json!({ "source": ctx.render(cfg.source.as_deref(), r#"{{ template "opsgenie.default.source" . }}"#)? });
        return post_json("opsgenie", &ctx.client, cfg.http_config.as_ref(), &url, &body, &auth)
            .await;
    }
    let url = format!("{base}/v2/alerts");
    post_json(
        "opsgenie",
        &ctx.client,
        cfg.http_config.as_ref(),
        &url,
        &create_body(cfg, ctx)?,
        &auth,
    )
    .await
}
