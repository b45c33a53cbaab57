//! `alertmanager.yml`: parsing (unknown fields are errors with file and line), global
//! defaults inherited by integrations, and whole-file validation.

mod duration;
mod goyaml;
mod http;
mod receiver;
mod route;
mod show;
mod show_other;
mod time_interval;

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

pub use duration::Duration;
pub use http::{Authorization, BasicAuth, HttpConfig, OAuth2, TlsConfig};
pub use receiver::{
    EmailConfig, Integration, MsTeamsConfig, OpsgenieConfig, PagerdutyConfig, ReceiverConfig,
    SlackConfig, SlackField, WebhookConfig,
};
pub use route::{InhibitRuleConfig, RouteConfig};
pub use time_interval::{NamedTimeInterval, TimeInterval, TimeIntervalConfig, TimeRangeConfig};

use crate::error::Error;

/// The `global` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    #[serde(default)]
    pub resolve_timeout: Option<Duration>,
    #[serde(default)]
    pub http_config: Option<HttpConfig>,
    #[serde(default)]
    pub smtp_from: Option<String>,
    #[serde(default)]
    pub smtp_hello: Option<String>,
    #[serde(default)]
    pub smtp_smarthost: Option<String>,
    #[serde(default)]
    pub smtp_auth_username: Option<String>,
    #[serde(default)]
    pub smtp_auth_password: Option<String>,
    #[serde(default)]
    pub smtp_auth_password_file: Option<String>,
    #[serde(default)]
    pub smtp_auth_secret: Option<String>,
    #[serde(default)]
    pub smtp_auth_identity: Option<String>,
    #[serde(default)]
    pub smtp_require_tls: Option<bool>,
    #[serde(default)]
    pub slack_api_url: Option<String>,
    #[serde(default)]
    pub slack_api_url_file: Option<String>,
    #[serde(default)]
    pub pagerduty_url: Option<String>,
    #[serde(default)]
    pub opsgenie_api_url: Option<String>,
    #[serde(default)]
    pub opsgenie_api_key: Option<String>,
    #[serde(default)]
    pub opsgenie_api_key_file: Option<String>,
    #[serde(default)]
    pub wechat_api_url: Option<String>,
    #[serde(default)]
    pub wechat_api_secret: Option<String>,
    #[serde(default)]
    pub wechat_api_corp_id: Option<String>,
    #[serde(default)]
    pub victorops_api_url: Option<String>,
    #[serde(default)]
    pub victorops_api_key: Option<String>,
    #[serde(default)]
    pub victorops_api_key_file: Option<String>,
    #[serde(default)]
    pub telegram_api_url: Option<String>,
    #[serde(default)]
    pub webex_api_url: Option<String>,
}

/// A whole `alertmanager.yml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub global: GlobalConfig,
    #[serde(default)]
    pub route: Option<RouteConfig>,
    #[serde(default)]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
    #[serde(default)]
    pub templates: Vec<String>,
    #[serde(default)]
    pub time_intervals: Vec<NamedTimeInterval>,
    #[serde(default)]
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    /// The file's text (kept for reload checks; `/api/v2/status` serves [`Config::go_yaml`]).
    #[serde(skip)]
    pub original: String,
    /// The file's path ("" when parsed from a string).
    #[serde(skip)]
    pub path: String,
}

/// Alertmanager's defaults.
pub const DEFAULT_RESOLVE_TIMEOUT_MS: i64 = 5 * 60_000;
pub const DEFAULT_PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";
pub const DEFAULT_OPSGENIE_URL: &str = "https://api.opsgenie.com/";

impl Config {
    /// Reads, parses and validates a file.
    pub fn load_file(path: &str) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { path: path.to_string(), source })?;
        Config::parse(&text, path)
    }

    /// Parses and validates YAML text; `path` names the file in errors.
    pub fn parse(text: &str, path: &str) -> Result<Config, Error> {
        let mut cfg: Config = serde_saphyr::from_str(text).map_err(|e| yaml_error(&e, path))?;
        cfg.original = text.to_string();
        cfg.path = path.to_string();
        cfg.finish()?;
        Ok(cfg)
    }

    pub fn resolve_timeout_ms(&self) -> i64 {
        self.global.resolve_timeout.map_or(DEFAULT_RESOLVE_TIMEOUT_MS, |d| d.0)
    }

    /// Looks a receiver up by name.
    pub fn receiver(&self, name: &str) -> Option<&ReceiverConfig> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// All named time intervals (both sections), compiled.
    pub fn compiled_time_intervals(&self) -> Result<BTreeMap<String, Vec<TimeInterval>>, Error> {
        let mut out = BTreeMap::new();
        for ti in self.time_intervals.iter().chain(&self.mute_time_intervals) {
            let compiled = ti
                .time_intervals
                .iter()
                .map(TimeInterval::compile)
                .collect::<Result<Vec<_>, _>>()?;
            if out.insert(ti.name.clone(), compiled).is_some() {
                return Err(Error::config(format!("time interval {:?} is not unique", ti.name)));
            }
        }
        Ok(out)
    }

    /// Inherits globals into integrations and validates cross references.
    fn finish(&mut self) -> Result<(), Error> {
        let route = self.route.as_ref().ok_or_else(|| Error::config("no routes provided"))?;
        let root_receiver = route.receiver.clone().unwrap_or_default();
        if root_receiver.is_empty() {
            return Err(Error::config("root route must specify a default receiver"));
        }
        if !route.match_.is_empty() || !route.match_re.is_empty() || !route.matchers.is_empty() {
            return Err(Error::config("root route must not have any matchers"));
        }
        if route.mute_time_intervals.len() + route.active_time_intervals.len() > 0 {
            return Err(Error::config("root route must not have any mute time intervals"));
        }
        let mut names = HashSet::new();
        for r in &self.receivers {
            if !names.insert(r.name.clone()) {
                return Err(Error::config(format!(
                    "notification config name {:?} is not unique",
                    r.name
                )));
            }
        }
        let intervals = self.compiled_time_intervals()?;
        check_route_refs(route, &names, &intervals)?;
        let global = self.global.clone();
        for r in &mut self.receivers {
            inherit_globals(r, &global)?;
        }
        for t in &self.templates {
            if t.is_empty() {
                return Err(Error::config("empty template path"));
            }
        }
        crate::route::Route::build(route).map(|_| ())?;
        for rule in &self.inhibit_rules {
            crate::inhibit::InhibitRule::build(rule)?;
        }
        Ok(())
    }
}

fn yaml_error(e: &serde_saphyr::Error, path: &str) -> Error {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid yaml");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let path = if path.is_empty() { "alertmanager.yml" } else { path };
    let message = match e.location() {
        Some(loc) => {
            // Drop the parser's own "line N column M: " prefix; the location leads instead.
            let msg = match first.split_once(": ") {
                Some((pre, rest)) if pre.starts_with("line ") => rest,
                _ => first,
            };
            format!("{}:{}: {msg}", loc.line(), loc.column())
        }
        None => first.to_string(),
    };
    Error::Yaml { path: path.to_string(), message }
}

fn check_route_refs(
    r: &RouteConfig,
    receivers: &HashSet<String>,
    intervals: &BTreeMap<String, Vec<TimeInterval>>,
) -> Result<(), Error> {
    if let Some(name) = r.receiver.as_ref().filter(|n| !receivers.contains(*n)) {
        return Err(Error::config(format!("undefined receiver {name:?} used in route")));
    }
    for ti in r.mute_time_intervals.iter().chain(&r.active_time_intervals) {
        if !intervals.contains_key(ti) {
            return Err(Error::config(format!("undefined time interval {ti:?} used in route")));
        }
    }
    r.routes.iter().try_for_each(|c| check_route_refs(c, receivers, intervals))
}

fn inherit_globals(r: &mut ReceiverConfig, g: &GlobalConfig) -> Result<(), Error> {
    for w in &mut r.webhook_configs {
        if w.url.is_none() && w.url_file.is_none() {
            return Err(Error::config("one of url or url_file must be configured"));
        }
        if w.http_config.is_none() {
            w.http_config = g.http_config.clone();
        }
    }
    for e in &mut r.email_configs {
        if e.to.is_empty() {
            return Err(Error::config("missing to address in email config"));
        }
        e.smarthost = e.smarthost.take().or_else(|| g.smtp_smarthost.clone());
        e.from = e.from.take().or_else(|| g.smtp_from.clone());
        e.hello =
            e.hello.take().or_else(|| g.smtp_hello.clone()).or_else(|| Some("localhost".into()));
        e.auth_username = e.auth_username.take().or_else(|| g.smtp_auth_username.clone());
        e.auth_password = e.auth_password.take().or_else(|| g.smtp_auth_password.clone());
        e.auth_password_file =
            e.auth_password_file.take().or_else(|| g.smtp_auth_password_file.clone());
        e.auth_secret = e.auth_secret.take().or_else(|| g.smtp_auth_secret.clone());
        e.auth_identity = e.auth_identity.take().or_else(|| g.smtp_auth_identity.clone());
        e.require_tls = e.require_tls.or(g.smtp_require_tls).or(Some(true));
        if e.smarthost.as_deref().unwrap_or("").is_empty() {
            return Err(Error::config("no global SMTP smarthost set"));
        }
        if e.from.as_deref().unwrap_or("").is_empty() {
            return Err(Error::config("no global SMTP from set"));
        }
    }
    for s in &mut r.slack_configs {
        for f in &s.fields {
            if f.title.is_empty() {
                return Err(Error::config("missing title in Slack field configuration"));
            }
            if f.value.is_empty() {
                return Err(Error::config("missing value in Slack field configuration"));
            }
        }
        if s.api_url.is_none() && s.api_url_file.is_none() {
            s.api_url = g.slack_api_url.clone();
            s.api_url_file = g.slack_api_url_file.clone();
        }
        if s.api_url.is_none() && s.api_url_file.is_none() {
            return Err(Error::config("no global Slack API URL set either inline or in a file"));
        }
        if s.http_config.is_none() {
            s.http_config = g.http_config.clone();
        }
    }
    for p in &mut r.pagerduty_configs {
        if p.routing_key.is_none()
            && p.service_key.is_none()
            && p.routing_key_file.is_none()
            && p.service_key_file.is_none()
        {
            return Err(Error::config("missing service or routing key in PagerDuty config"));
        }
        p.url = p
            .url
            .take()
            .or_else(|| g.pagerduty_url.clone())
            .or_else(|| Some(DEFAULT_PAGERDUTY_URL.into()));
        if p.http_config.is_none() {
            p.http_config = g.http_config.clone();
        }
    }
    for o in &mut r.opsgenie_configs {
        o.api_url = o
            .api_url
            .take()
            .or_else(|| g.opsgenie_api_url.clone())
            .or_else(|| Some(DEFAULT_OPSGENIE_URL.into()));
        if o.api_key.is_none() && o.api_key_file.is_none() {
            o.api_key = g.opsgenie_api_key.clone();
            o.api_key_file = g.opsgenie_api_key_file.clone();
        }
        if o.api_key.is_none() && o.api_key_file.is_none() {
            return Err(Error::config("no global OpsGenie API Key set either inline or in a file"));
        }
        if o.http_config.is_none() {
            o.http_config = g.http_config.clone();
        }
    }
    for t in &mut r.msteams_configs {
        if t.webhook_url.is_none() && t.webhook_url_file.is_none() {
            return Err(Error::config("one of webhook_url or webhook_url_file must be configured"));
        }
        if t.http_config.is_none() {
            t.http_config = g.http_config.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
