//! What an integration needs to render and send one notification.

use std::sync::{Arc, OnceLock};

use alertmanager::Notification;
use alertmanager::template::{TemplateData, Templates, template_data};

use crate::error::NotifyError;

/// One notification ready to render: template data plus the raw group key.
#[derive(Clone, Debug)]
pub struct NotifyContext {
    pub data: TemplateData,
    pub group_key: String,
    pub templates: Arc<Templates>,
    pub client: reqwest::Client,
    /// The template value, built on the first render (the webhook renders nothing).
    value: OnceLock<gotmpl::Value>,
}

impl NotifyContext {
    /// Builds the context for a notification from the core.
    pub fn new(
        n: &Notification,
        external_url: &str,
        templates: Arc<Templates>,
        client: reqwest::Client,
    ) -> NotifyContext {
        let data = template_data(&n.receiver, &n.group_labels, &n.alerts, external_url, n.now);
        NotifyContext {
            data,
            group_key: n.group_key.clone(),
            templates,
            client,
            value: OnceLock::new(),
        }
    }

    /// Renders a config field (which may be a template) or the given default template.
    pub fn render(&self, field: Option<&str>, default: &str) -> Result<String, NotifyError> {
        let text = field.unwrap_or(default);
        let value = self.value.get_or_init(|| self.data.to_value());
        self.templates.execute(text, value).map_err(|e| NotifyError::permanent(e.to_string()))
    }

    /// Renders a config field that has no default ("" when unset).
    pub fn render_opt(&self, field: Option<&str>) -> Result<String, NotifyError> {
        self.render(field, "")
    }

    /// Number of firing alerts.
    pub fn firing(&self) -> usize {
        self.data.alerts.iter().filter(|a| a.status == "firing").count()
    }

    /// sha256 of the group key in hex, Alertmanager's dedup key for PagerDuty and Opsgenie.
    pub fn hashed_group_key(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.group_key.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Reads a secret inline or from a file.
pub fn secret(inline: Option<&str>, file: Option<&str>) -> Result<String, NotifyError> {
    if let Some(s) = inline {
        return Ok(s.to_string());
    }
    match file {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| NotifyError::permanent(format!("reading {path}: {e}"))),
        None => Err(NotifyError::permanent("missing secret")),
    }
}
