//! The `alerting:` section of `prometheus.yml`, as Prometheus reads it.
//!
//! ```yaml
//! alerting:
//!   alert_relabel_configs: [ <relabel_config> ... ]
//!   alertmanagers:
//!     - scheme: http            # default
//!       path_prefix: /          # default
//!       timeout: 10s            # default
//!       api_version: v2         # the only supported version
//!       basic_auth: { username, password, password_file }
//!       authorization: { type: Bearer, credentials, credentials_file }
//!       static_configs: [ { targets: [host:port], labels: {..} } ]
//!       file_sd_configs: [ { files: [glob], refresh_interval: 5m } ]
//!       relabel_configs: [ .. ]        # applied to discovered Alertmanagers
//!       alert_relabel_configs: [ .. ]  # applied to alerts sent to this set only
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::NotifierError;
use crate::relabel::RelabelConfigSpec;

/// The whole `alerting` section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    #[serde(default)]
    pub alert_relabel_configs: Vec<RelabelConfigSpec>,
    #[serde(default)]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

/// One Alertmanager set.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    pub scheme: Option<String>,
    pub path_prefix: Option<String>,
    pub timeout: Option<String>,
    pub api_version: Option<String>,
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub tls_config: Option<TlsConfig>,
    pub follow_redirects: Option<bool>,
    pub enable_http2: Option<bool>,
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    #[serde(default)]
    pub file_sd_configs: Vec<FileSdConfig>,
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfigSpec>,
    #[serde(default)]
    pub alert_relabel_configs: Vec<RelabelConfigSpec>,
}

/// HTTP basic authentication.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: Option<String>,
    pub username_file: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<String>,
}

/// The `Authorization` header (`type` defaults to `Bearer`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub credentials: Option<String>,
    pub credentials_file: Option<String>,
}

/// TLS settings (only `insecure_skip_verify` and `server_name` are honoured).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub server_name: Option<String>,
    pub insecure_skip_verify: Option<bool>,
    pub min_version: Option<String>,
}

/// A static target group.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// File-based discovery.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    #[serde(default)]
    pub files: Vec<String>,
    pub refresh_interval: Option<String>,
}

impl AlertingConfig {
    /// Parses the YAML of the `alerting` section alone.
    pub fn from_yaml(text: &str) -> Result<AlertingConfig, NotifierError> {
        let cfg: AlertingConfig =
            serde_saphyr::from_str(text).map_err(|e| NotifierError::Config(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what Prometheus checks at load time.
    pub fn validate(&self) -> Result<(), NotifierError> {
        crate::relabel::compile(&self.alert_relabel_configs)?;
        for am in &self.alertmanagers {
            am.validate()?;
        }
        Ok(())
    }
}

impl AlertmanagerConfig {
    pub fn scheme(&self) -> &str {
        self.scheme.as_deref().unwrap_or("http")
    }

    /// The timeout in milliseconds (default 10 s).
    pub fn timeout_ms(&self) -> Result<i64, NotifierError> {
        match &self.timeout {
            None => Ok(10_000),
            Some(t) => model::duration::parse_duration(t)
                .map_err(|e| NotifierError::Config(format!("timeout: {e}"))),
        }
    }

    /// `path.Join("/", path_prefix, "/api/v2/alerts")`.
    pub fn alerts_path(&self) -> String {
        let prefix = self.path_prefix.as_deref().unwrap_or("/");
        let joined = format!("/{}/api/v2/alerts", prefix.trim_matches('/'));
        joined.replace("//", "/")
    }

    fn validate(&self) -> Result<(), NotifierError> {
        match self.api_version.as_deref() {
            None | Some("v2") => {}
            Some(v) => {
                return Err(NotifierError::Config(format!(
                    "expected Alertmanager api version to be one of [v2] but got {v}"
                )));
            }
        }
        match self.scheme() {
            "http" | "https" => {}
            s => return Err(NotifierError::Config(format!("unsupported scheme {s:?}"))),
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return Err(NotifierError::Config(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            ));
        }
        self.timeout_ms()?;
        crate::relabel::compile(&self.relabel_configs)?;
        crate::relabel::compile(&self.alert_relabel_configs)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let cfg = AlertingConfig::from_yaml(
            "alertmanagers:\n  - path_prefix: /am/\n    static_configs:\n      - targets: ['127.0.0.1:9093']\n",
        )
        .unwrap();
        assert_eq!(cfg.alertmanagers[0].alerts_path(), "/am/api/v2/alerts");
        assert_eq!(AlertmanagerConfig::default().alerts_path(), "/api/v2/alerts");
        assert!(AlertingConfig::from_yaml("alertmanagers:\n  - api_version: v1\n").is_err());
        assert!(AlertingConfig::from_yaml("alertmanagers:\n  - nope: 1\n").is_err());
    }
}
