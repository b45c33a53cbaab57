//! The `alerting` section: Alertmanagers to notify and alert relabeling.

use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::http::with_http_client;
use crate::relabel::RelabelConfigYaml;
use crate::sd::{DnsSdConfig, FileSdConfig, HttpSdConfig, KubernetesSdConfig, StaticConfig};

/// `alerting`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_relabel_configs: Vec<RelabelConfigYaml>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

impl AlertingConfig {
    pub fn is_empty(&self) -> bool {
        self.alert_relabel_configs.is_empty() && self.alertmanagers.is_empty()
    }
}

fn default_scheme() -> String {
    "http".into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_api_version() -> String {
    "v2".into()
}

with_http_client! {
    /// One `alertmanagers` entry (an empty `path_prefix` means `/`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct AlertmanagerConfig {}
    tail {
        #[serde(default = "default_scheme")]
        pub scheme: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub path_prefix: String,
        #[serde(default = "default_timeout")]
        pub timeout: Duration,
        #[serde(default = "default_api_version")]
        pub api_version: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub relabel_configs: Vec<RelabelConfigYaml>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub alert_relabel_configs: Vec<RelabelConfigYaml>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub dns_sd_configs: Vec<DnsSdConfig>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub file_sd_configs: Vec<FileSdConfig>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub http_sd_configs: Vec<HttpSdConfig>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub static_configs: Vec<StaticConfig>,
    }
}

impl AlertingConfig {
    pub(crate) fn finish(&mut self, dir: &std::path::Path) -> Result<(), String> {
        crate::relabel::compile_all(&self.alert_relabel_configs)?;
        for am in &mut self.alertmanagers {
            if am.api_version != "v1" && am.api_version != "v2" {
                return Err(format!(
                    "expected Alertmanager api version to be one of [v1 v2] but got {}",
                    am.api_version
                ));
            }
            if am.scheme != "http" && am.scheme != "https" {
                return Err(format!("invalid scheme {:?} for alertmanager config", am.scheme));
            }
            am.check_http_client(dir)?;
            for f in &mut am.file_sd_configs {
                for p in &mut f.files {
                    crate::join_dir(dir, p);
                }
            }
            crate::relabel::compile_all(&am.relabel_configs)?;
            crate::relabel::compile_all(&am.alert_relabel_configs)?;
        }
        Ok(())
    }
}
