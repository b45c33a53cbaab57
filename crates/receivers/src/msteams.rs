//! The Microsoft Teams integration (incoming-webhook message card, as Alertmanager 0.26).

use alertmanager::config::MsTeamsConfig;
use serde_json::{Value, json};

use crate::context::{NotifyContext, secret};
use crate::error::NotifyError;
use crate::http::post_json;

/// The card body.
pub fn body(cfg: &MsTeamsConfig, ctx: &NotifyContext) -> Result<Value, NotifyError> {
    let color = match ctx.data.status {
        "firing" => "8C1A1A",
        "resolved" => "2DC72D",
        _ => "808080",
    };
    Ok(json!({
        "@context": "http://schema.org/extensions",
        "type": "MessageCard",
        "title": ctx.render(cfg.title.as_deref(), r#"{{ template "msteams.default.title" . }}"#)?,
        "summary": ctx.render(cfg.summary.as_deref(), r#"{{ template "msteams.default.summary" . }}"#)?,
        "text": ctx.render(cfg.text.as_deref(), r#"{{ template "msteams.default.text" . }}"#)?,
        "themeColor": color,
    }))
}

pub async fn notify(cfg: &MsTeamsConfig, ctx: &NotifyContext) -> Result<(), NotifyError> {
    let url = secret(cfg.webhook_url.as_deref(), cfg.webhook_url_file.as_deref())?;
    post_json("msteams", &ctx.client, cfg.http_config.as_ref(), &url, &body(cfg, ctx)?, &[]).await
}
