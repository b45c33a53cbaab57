//! The `receivers` section: one struct per integration, as `alertmanager.yml` spells them.
//!
//! Fields left empty inherit from `global` in [`super::Config::finish`]; templates left empty
//! get Alertmanager's defaults in the `receivers` crate.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::http::{HttpConfig, TlsConfig};

fn yes() -> bool {
    true
}

/// A named receiver with its integrations.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    pub name: String,
    #[serde(default)]
    pub webhook_configs: Vec<WebhookConfig>,
    #[serde(default)]
    pub email_configs: Vec<EmailConfig>,
    #[serde(default)]
    pub slack_configs: Vec<SlackConfig>,
    #[serde(default)]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    #[serde(default)]
    pub opsgenie_configs: Vec<OpsgenieConfig>,
    #[serde(default)]
    pub msteams_configs: Vec<MsTeamsConfig>,
    /// Integrations Pharos parses but does not deliver to (reported by `check`).
    #[serde(default)]
    pub pushover_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub victorops_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub wechat_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub sns_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub telegram_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub webex_configs: Vec<serde_json::Value>,
    #[serde(default)]
    pub discord_configs: Vec<serde_json::Value>,
}

/// One integration of a receiver, with its index among integrations of the same kind.
#[derive(Clone, Debug)]
pub enum Integration {
    Webhook(WebhookConfig),
    Email(EmailConfig),
    Slack(SlackConfig),
    Pagerduty(PagerdutyConfig),
    Opsgenie(OpsgenieConfig),
    MsTeams(MsTeamsConfig),
}

impl Integration {
    /// The integration's name as Alertmanager logs it in the notification log.
    pub fn kind(&self) -> &'static str {
        match self {
            Integration::Webhook(_) => "webhook",
            Integration::Email(_) => "email",
            Integration::Slack(_) => "slack",
            Integration::Pagerduty(_) => "pagerduty",
            Integration::Opsgenie(_) => "opsgenie",
            Integration::MsTeams(_) => "msteams",
        }
    }

    pub fn send_resolved(&self) -> bool {
        match self {
            Integration::Webhook(c) => c.send_resolved,
            Integration::Email(c) => c.send_resolved,
            Integration::Slack(c) => c.send_resolved,
            Integration::Pagerduty(c) => c.send_resolved,
            Integration::Opsgenie(c) => c.send_resolved,
            Integration::MsTeams(c) => c.send_resolved,
        }
    }
}

impl ReceiverConfig {
    /// The integrations in Alertmanager's order, each with its per-kind index.
    pub fn integrations(&self) -> Vec<(usize, Integration)> {
        let mut out = Vec::new();
        out.extend(self.webhook_configs.iter().cloned().map(Integration::Webhook).enumerate());
        out.extend(self.email_configs.iter().cloned().map(Integration::Email).enumerate());
        out.extend(self.pagerduty_configs.iter().cloned().map(Integration::Pagerduty).enumerate());
        out.extend(self.opsgenie_configs.iter().cloned().map(Integration::Opsgenie).enumerate());
        out.extend(self.slack_configs.iter().cloned().map(Integration::Slack).enumerate());
        out.extend(self.msteams_configs.iter().cloned().map(Integration::MsTeams).enumerate());
        out
    }

    /// Names of integration kinds present in the file that Pharos does not deliver to.
    pub fn unsupported(&self) -> Vec<&'static str> {
        let kinds = [
            ("pushover_configs", self.pushover_configs.len()),
            ("victorops_configs", self.victorops_configs.len()),
            ("wechat_configs", self.wechat_configs.len()),
            ("sns_configs", self.sns_configs.len()),
            ("telegram_configs", self.telegram_configs.len()),
            ("webex_configs", self.webex_configs.len()),
            ("discord_configs", self.discord_configs.len()),
        ];
        kinds.iter().filter(|(_, n)| *n > 0).map(|(k, _)| *k).collect()
    }
}

/// `webhook_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub url_file: Option<String>,
    #[serde(default)]
    pub max_alerts: u64,
}

/// `email_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub hello: Option<String>,
    #[serde(default)]
    pub smarthost: Option<String>,
    #[serde(default)]
    pub auth_username: Option<String>,
    #[serde(default)]
    pub auth_password: Option<String>,
    #[serde(default)]
    pub auth_password_file: Option<String>,
    #[serde(default)]
    pub auth_secret: Option<String>,
    #[serde(default)]
    pub auth_identity: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub require_tls: Option<bool>,
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
}

/// One Slack attachment field.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackField {
    pub title: String,
    pub value: String,
    #[serde(default)]
    pub short: Option<bool>,
}

/// `slack_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    #[serde(default)]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub api_url_file: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub title_link: Option<String>,
    #[serde(default)]
    pub pretext: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub fields: Vec<SlackField>,
    #[serde(default)]
    pub short_fields: bool,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default)]
    pub fallback: Option<String>,
    #[serde(default)]
    pub callback_id: Option<String>,
    #[serde(default)]
    pub icon_emoji: Option<String>,
    #[serde(default)]
    pub icon_url: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub thumb_url: Option<String>,
    #[serde(default)]
    pub link_names: bool,
    #[serde(default)]
    pub mrkdwn_in: Vec<String>,
    #[serde(default, deserialize_with = "slack_actions")]
    pub actions: Vec<serde_json::Value>,
}

/// `pagerduty_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub routing_key: Option<String>,
    #[serde(default)]
    pub routing_key_file: Option<String>,
    #[serde(default)]
    pub service_key: Option<String>,
    #[serde(default)]
    pub service_key_file: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub client_url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "pagerduty_images")]
    pub images: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "pagerduty_links")]
    pub links: Vec<serde_json::Value>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// `opsgenie_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub api_key_file: Option<String>,
    #[serde(default)]
    pub api_url: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default, deserialize_with = "opsgenie_responders")]
    pub responders: Vec<serde_json::Value>,
    #[serde(default)]
    pub actions: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub update_alerts: bool,
}

/// `msteams_configs`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsTeamsConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_url_file: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// Reads a list of one of the small string-field objects below and keeps it as JSON objects
/// of strings: each field is read as a string, so YAML's `n` or `007` stay the text written
/// (as Go reads them into its string fields), and unknown fields are refused.
fn string_objects<'de, D, T>(d: D) -> Result<Vec<Value>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Serialize,
{
    let items: Vec<T> = Vec::deserialize(d)?;
    items.iter().map(|i| serde_json::to_value(i).map_err(serde::de::Error::custom)).collect()
}

fn slack_actions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    string_objects::<D, SlackAction>(d)
}

fn pagerduty_images<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    string_objects::<D, PagerdutyImage>(d)
}

fn pagerduty_links<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    string_objects::<D, PagerdutyLink>(d)
}

fn opsgenie_responders<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    string_objects::<D, OpsgenieResponder>(d)
}

/// Slack's `actions` entry.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SlackAction {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirm: Option<SlackConfirm>,
}

/// Slack's action `confirm`.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SlackConfirm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ok_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dismiss_text: Option<String>,
}

/// PagerDuty's `images` entry.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PagerdutyImage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    src: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    href: Option<String>,
}

/// PagerDuty's `links` entry.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PagerdutyLink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// OpsGenie's `responders` entry.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct OpsgenieResponder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}
