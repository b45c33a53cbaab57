//! Service discovery: providers turn `*_sd_configs` into target groups.
//!
//! Each provider runs as a task and sends the full, current list of its target groups whenever
//! it changes: `(provider index, groups)` on an mpsc channel the scrape pool reads. A target is
//! a label set holding at least `__address__`; group labels apply to every target of the group.

mod dns;
mod file;
mod http;
pub mod kubernetes;
mod static_sd;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use model::Labels;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use dns::{DnsRecord, dns_records_to_groups};
pub use file::parse_target_groups;
pub(crate) use static_sd::groups as static_groups;

use crate::metrics::SdMetrics;

/// What the providers of one scrape pool count through: the process' discovery counters and
/// the pool's providers that could not be created (`prometheus_sd_failed_configs`).
#[derive(Debug, Clone, Default)]
pub struct ProviderMetrics {
    pub(crate) sd: Arc<SdMetrics>,
    failed: Arc<AtomicU64>,
}

impl ProviderMetrics {
    pub fn new(sd: Arc<SdMetrics>) -> ProviderMetrics {
        ProviderMetrics { sd, failed: Arc::default() }
    }

    /// A provider could not be created from its config.
    pub(crate) fn config_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// How many of the pool's providers could not be created.
    pub fn failed_configs(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The process-wide discovery counters now.
    pub fn sd_snapshot(&self) -> crate::metrics::SdSnapshot {
        self.sd.snapshot()
    }
}

/// A group of targets sharing labels, from one source.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGroup {
    /// Identifies the group within its provider (file name and index, URL and index, ...).
    pub source: String,
    /// Each target's own labels (`__address__` and more).
    pub targets: Vec<Labels>,
    /// Labels applied to every target (a target's own labels win).
    pub labels: Labels,
}

/// Updates from providers: the provider's index and its complete current groups.
pub type UpdateSender = mpsc::UnboundedSender<(usize, Vec<TargetGroup>)>;

/// Settings shared by all providers.
#[derive(Debug, Clone)]
pub struct DiscoveryOptions {
    /// How often file_sd checks files' modification times.
    pub file_poll_interval: Duration,
    /// Overrides the DNS servers used by dns_sd (tests point this at 127.0.0.1).
    pub dns_servers: Option<Vec<std::net::SocketAddr>>,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions { file_poll_interval: Duration::from_secs(3), dns_servers: None }
    }
}

/// The discovery configs of one scrape config (or Alertmanager config).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveryConfigs {
    pub static_configs: Vec<config::sd::StaticConfig>,
    pub file_sd_configs: Vec<config::sd::FileSdConfig>,
    pub http_sd_configs: Vec<config::sd::HttpSdConfig>,
    pub dns_sd_configs: Vec<config::sd::DnsSdConfig>,
    pub kubernetes_sd_configs: Vec<config::sd::KubernetesSdConfig>,
}

impl DiscoveryConfigs {
    pub fn from_scrape_config(c: &config::ScrapeConfig) -> DiscoveryConfigs {
        DiscoveryConfigs {
            static_configs: c.static_configs.clone(),
            file_sd_configs: c.file_sd_configs.clone(),
            http_sd_configs: c.http_sd_configs.clone(),
            dns_sd_configs: c.dns_sd_configs.clone(),
            kubernetes_sd_configs: c.kubernetes_sd_configs.clone(),
        }
    }
}

/// Starts one task per provider. Returns the number of providers started.
pub fn start_providers(
    cfgs: &DiscoveryConfigs,
    opts: &DiscoveryOptions,
    tx: UpdateSender,
    cancel: CancellationToken,
    metrics: &ProviderMetrics,
) -> usize {
    let mut idx = 0;
    if !cfgs.static_configs.is_empty() {
        let _ = tx.send((idx, static_sd::groups(&cfgs.static_configs)));
        idx += 1;
    }
    for c in &cfgs.file_sd_configs {
        tokio::spawn(file::run(
            c.clone(),
            opts.file_poll_interval,
            idx,
            tx.clone(),
            cancel.clone(),
            metrics.sd.clone(),
        ));
        idx += 1;
    }
    for c in &cfgs.http_sd_configs {
        metrics.sd.refresh_created("http");
        tokio::spawn(http::run(c.clone(), idx, tx.clone(), cancel.clone(), metrics.clone()));
        idx += 1;
    }
    for c in &cfgs.dns_sd_configs {
        metrics.sd.refresh_created("dns");
        tokio::spawn(dns::run(
            c.clone(),
            opts.dns_servers.clone(),
            idx,
            tx.clone(),
            cancel.clone(),
            metrics.clone(),
        ));
        idx += 1;
    }
    for c in &cfgs.kubernetes_sd_configs {
        tokio::spawn(kubernetes::run(c.clone(), idx, tx.clone(), cancel.clone(), metrics.clone()));
        idx += 1;
    }
    idx
}

/// Parses the JSON/YAML target-group format shared by file_sd and http_sd.
pub(crate) fn groups_from_static(
    raw: Vec<config::sd::StaticConfig>,
    source_prefix: &str,
    extra: &[(&str, &str)],
) -> Result<Vec<TargetGroup>, String> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, g) in raw.into_iter().enumerate() {
        for name in g.labels.keys() {
            if !model::names::is_legacy_label_name(name) {
                return Err(format!("invalid label name {name:?}"));
            }
        }
        let mut labels: Vec<(String, String)> = g.labels.into_iter().collect();
        labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let targets =
            g.targets.iter().map(|t| Labels::new([(model_address(), t.as_str())])).collect();
        out.push(TargetGroup {
            source: format!("{source_prefix}:{i}"),
            targets,
            labels: Labels::new(labels),
        });
    }
    Ok(out)
}

pub(crate) fn model_address() -> &'static str {
    "__address__"
}
