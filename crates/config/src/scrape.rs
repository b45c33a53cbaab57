//! `scrape_configs` entries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::http::with_http_client;
use crate::relabel::RelabelConfigYaml;
use crate::sd::{DnsSdConfig, FileSdConfig, HttpSdConfig, KubernetesSdConfig, StaticConfig};
use crate::{ByteSize, Duration};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

with_http_client! {
    /// One `scrape_configs` entry. Inherited fields are `Option` until [`crate::Config`]
    /// fills them from `global`; after loading they are always `Some`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ScrapeConfig {
        pub job_name: String,
        #[serde(default, skip_serializing_if = "crate::http::is_false")]
        pub honor_labels: bool,
        #[serde(default = "crate::http::yes")]
        pub honor_timestamps: bool,
        #[serde(default, skip_serializing_if = "crate::http::is_false")]
        pub track_timestamps_staleness: bool,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub params: BTreeMap<String, Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub scrape_interval: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub scrape_timeout: Option<Duration>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub scrape_protocols: Vec<String>,
        #[serde(default = "default_metrics_path")]
        pub metrics_path: String,
        #[serde(default = "default_scheme")]
        pub scheme: String,
        #[serde(default = "crate::http::yes", skip_serializing_if = "crate::http::is_true")]
        pub enable_compression: bool,
        #[serde(default, skip_serializing_if = "ByteSize::is_zero")]
        pub body_size_limit: ByteSize,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub sample_limit: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub target_limit: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub label_limit: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub label_name_length_limit: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub label_value_length_limit: u64,
        #[serde(default, skip_serializing_if = "is_zero")]
        pub keep_dropped_targets: u64,
    }
    tail {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub relabel_configs: Vec<RelabelConfigYaml>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub metric_relabel_configs: Vec<RelabelConfigYaml>,
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

fn default_metrics_path() -> String {
    "/metrics".into()
}

fn default_scheme() -> String {
    "http".into()
}

impl ScrapeConfig {
    /// A scrape config with Prometheus' defaults and no targets.
    pub fn new(job_name: &str) -> ScrapeConfig {
        let text = format!("job_name: {job_name:?}\n");
        // The defaults live in the serde attributes; derive them from an empty document.
        serde_saphyr::from_str(&text)
            .unwrap_or_else(|_| unreachable!("minimal scrape config parses"))
    }

    /// The effective scrape interval (after loading, always set).
    pub fn interval(&self) -> Duration {
        self.scrape_interval.unwrap_or(Duration::from_secs(60))
    }

    /// The effective scrape timeout (after loading, always set).
    pub fn timeout(&self) -> Duration {
        self.scrape_timeout.unwrap_or(Duration::from_secs(10))
    }

    /// Fills inherited fields from `global` and validates, as Prometheus' unmarshalling does.
    pub(crate) fn finish(
        &mut self,
        global: &crate::GlobalConfig,
        dir: &std::path::Path,
    ) -> Result<(), String> {
        if self.job_name.is_empty() {
            return Err("job_name is empty".into());
        }
        let interval = *self.scrape_interval.get_or_insert(global.scrape_interval);
        if self.scrape_timeout.is_none() {
            self.scrape_timeout = Some(global.scrape_timeout.min(interval));
        }
        if self.timeout() > interval {
            return Err(format!(
                "scrape timeout greater than scrape interval for scrape config with job name {:?}",
                self.job_name
            ));
        }
        if self.scheme != "http" && self.scheme != "https" {
            return Err(format!(
                "invalid scheme {:?} for scrape config with job name {:?}",
                self.scheme, self.job_name
            ));
        }
        let job = self.job_name.clone();
        self.check_http_client(dir).map_err(|e| format!("{e} (job {job:?})"))?;
        for s in &self.static_configs {
            check_targets(s)?;
        }
        for f in &mut self.file_sd_configs {
            for p in &mut f.files {
                check_sd_file_pattern(p)?;
                crate::join_dir(dir, p);
            }
        }
        for h in &mut self.http_sd_configs {
            h.check_http_client(dir)?;
            check_http_url(&h.url)?;
        }
        for d in &self.dns_sd_configs {
            if d.names.is_empty() {
                return Err("DNS-SD config must contain at least one SRV record name".into());
            }
            if d.record_type != crate::sd::DnsRecordType::Srv && d.port == 0 {
                return Err(
                    "a port is required in DNS-SD configs for all record types except SRV".into()
                );
            }
        }
        for k in &mut self.kubernetes_sd_configs {
            k.check_http_client(dir)?;
            crate::join_dir(dir, &mut k.kubeconfig_file);
            if !k.api_server.is_empty() && !k.kubeconfig_file.is_empty() {
                return Err("cannot use 'kubeconfig_file' and 'api_server' simultaneously".into());
            }
        }
        crate::relabel::compile_all(&self.relabel_configs)?;
        crate::relabel::compile_all(&self.metric_relabel_configs)?;
        Ok(())
    }
}

fn check_targets(s: &StaticConfig) -> Result<(), String> {
    for t in &s.targets {
        if t.contains('/') {
            return Err(format!("{t:?} is not a valid hostname"));
        }
    }
    for name in s.labels.keys() {
        if !model::names::is_legacy_label_name(name) {
            return Err(format!("{name:?} is not a valid label name"));
        }
    }
    Ok(())
}

fn check_sd_file_pattern(p: &str) -> Result<(), String> {
    let ok = [".json", ".yml", ".yaml"].iter().any(|ext| p.ends_with(ext));
    if !ok {
        return Err(format!("path {p:?} is not valid for file discovery"));
    }
    Ok(())
}

fn check_http_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("URL is missing".into());
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("URL scheme must be 'http' or 'https'".into());
    }
    Ok(())
}
