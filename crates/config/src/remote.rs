//! `remote_write` and `remote_read`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::http::with_http_client;
use crate::relabel::RelabelConfigYaml;

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}
fn one_minute() -> Duration {
    Duration::from_secs(60)
}

/// `queue_config` with Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    pub capacity: i64,
    pub max_shards: i64,
    pub min_shards: i64,
    pub max_samples_per_send: i64,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    #[serde(skip_serializing_if = "crate::http::is_false")]
    pub retry_on_http_429: bool,
    #[serde(skip_serializing_if = "Duration::is_zero")]
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 2500,
            max_shards: 200,
            min_shards: 1,
            max_samples_per_send: 500,
            batch_send_deadline: Duration(5000),
            min_backoff: Duration(30),
            max_backoff: Duration(5000),
            retry_on_http_429: false,
            sample_age_limit: Duration(0),
        }
    }
}

/// `metadata_config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    pub send: bool,
    pub send_interval: Duration,
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig { send: true, send_interval: one_minute(), max_samples_per_send: 500 }
    }
}

with_http_client! {
    /// One `remote_write` entry.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemoteWriteConfig {
        pub url: String,
        #[serde(default = "thirty_seconds")]
        pub remote_timeout: Duration,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub headers: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub write_relabel_configs: Vec<RelabelConfigYaml>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub name: String,
        #[serde(default, skip_serializing_if = "crate::http::is_false")]
        pub send_exemplars: bool,
        #[serde(default, skip_serializing_if = "crate::http::is_false")]
        pub send_native_histograms: bool,
    }
    tail {
        #[serde(default)]
        pub queue_config: QueueConfig,
        #[serde(default)]
        pub metadata_config: MetadataConfig,
    }
}

with_http_client! {
    /// One `remote_read` entry.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RemoteReadConfig {
        pub url: String,
        #[serde(default = "one_minute")]
        pub remote_timeout: Duration,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub headers: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "crate::http::is_false")]
        pub read_recent: bool,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub name: String,
    }
    tail {
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub required_matchers: BTreeMap<String, String>,
        #[serde(default = "crate::http::yes")]
        pub filter_external_labels: bool,
    }
}

/// Headers Prometheus refuses to let users set on remote requests.
const RESERVED_HEADERS: [&str; 6] =
    ["authorization", "host", "content-encoding", "content-length", "content-type", "user-agent"];

fn check_headers(h: &BTreeMap<String, String>) -> Result<(), String> {
    for name in h.keys() {
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
            || name.to_ascii_lowercase().starts_with("x-prometheus-remote-")
        {
            return Err(format!("{name} is a reserved header. It must not be changed"));
        }
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("url for remote_write/remote_read is empty".into());
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("invalid remote URL {url:?}"));
    }
    Ok(())
}

impl RemoteWriteConfig {
    pub(crate) fn finish(&mut self, dir: &std::path::Path) -> Result<(), String> {
        check_url(&self.url)?;
        check_headers(&self.headers)?;
        crate::relabel::compile_all(&self.write_relabel_configs)?;
        self.check_http_client(dir)
    }
}

impl RemoteReadConfig {
    pub(crate) fn finish(&mut self, dir: &std::path::Path) -> Result<(), String> {
        check_url(&self.url)?;
        check_headers(&self.headers)?;
        self.check_http_client(dir)
    }
}
