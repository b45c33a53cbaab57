//! The scrape manager: one pool per scrape config, reloaded in place.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use model::Labels;
use parking_lot::Mutex;
use storage::Appendable;

use crate::discovery::DiscoveryOptions;
use crate::metrics::{ScrapeMetrics, ScrapeSnapshot};
use crate::pool::{ScrapePool, loop_options};
use crate::target::Health;
use crate::{Clock, MetricMetadata, ScrapeError, SystemClock};

/// Manager settings.
#[derive(Clone)]
pub struct ManagerOptions {
    /// Source of sample timestamps.
    pub clock: Arc<dyn Clock>,
    pub discovery: DiscoveryOptions,
    /// How late a scrape may start and still be stamped with the time it was due (Prometheus'
    /// `--scrape.timestamp-tolerance`, under `--scrape.adjust-timestamps`); `None`: every
    /// scrape is stamped with the time it starts. See [`crate::align`].
    pub timestamp_tolerance: Option<std::time::Duration>,
    /// Targets of a pool scraped together at one wake-up (`--scrape.group-size`; 1:
    /// Prometheus' spread, each target at its own offset). See [`crate::spread`].
    pub group_size: usize,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            clock: Arc::new(SystemClock),
            discovery: DiscoveryOptions::default(),
            timestamp_tolerance: Some(crate::SCRAPE_TIMESTAMP_TOLERANCE),
            group_size: crate::spread::DEFAULT_GROUP_SIZE,
        }
    }
}

impl std::fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerOptions").field("discovery", &self.discovery).finish_non_exhaustive()
    }
}

/// An active target as `/api/v1/targets` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTarget {
    pub discovered_labels: Labels,
    /// Final labels without `__`-prefixed ones.
    pub labels: Labels,
    pub scrape_pool: String,
    pub scrape_url: String,
    pub global_url: String,
    pub last_error: String,
    /// Start of the last scrape (ms since the epoch), `None` before the first.
    pub last_scrape_ms: Option<i64>,
    pub last_scrape_duration_seconds: f64,
    pub health: Health,
    pub scrape_interval: String,
    pub scrape_timeout: String,
}

/// A dropped target: only its labels before relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    pub discovered_labels: Labels,
    pub scrape_pool: String,
}

/// Both lists, for `/api/v1/targets`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    pub active: Vec<ActiveTarget>,
    pub dropped: Vec<DroppedTarget>,
}

/// One entry of `/api/v1/targets/metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetMetadata {
    /// The target's labels (without `__`-prefixed ones).
    pub target: Labels,
    pub metadata: MetricMetadata,
}

/// Runs scrape pools for a configuration. Must be used inside a tokio runtime.
pub struct Manager {
    appendable: Arc<dyn Appendable>,
    opts: ManagerOptions,
    pools: Mutex<BTreeMap<String, Arc<ScrapePool>>>,
    global_url_host: Mutex<String>,
    metrics: Arc<ScrapeMetrics>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("pools", &self.pools.lock().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Manager {
    pub fn new(appendable: Arc<dyn Appendable>, opts: ManagerOptions) -> Manager {
        Manager {
            appendable,
            opts,
            pools: Mutex::new(BTreeMap::new()),
            global_url_host: Mutex::new(String::new()),
            metrics: Arc::new(ScrapeMetrics::default()),
        }
    }

    /// Sets the host name used in `globalUrl` for targets on localhost (Prometheus uses the
    /// machine's hostname).
    pub fn set_global_url_host(&self, host: &str) {
        *self.global_url_host.lock() = host.to_string();
    }

    /// Applies a configuration: new pools start, removed pools stop (their series go stale),
    /// changed pools restart, unchanged pools keep running untouched. Validates everything
    /// first; on error nothing changes.
    pub fn apply_config(&self, cfg: &config::Config) -> Result<(), ScrapeError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ScrapeError::NoRuntime(
                "apply_config must run inside a tokio runtime".into(),
            ));
        }
        let mut pools = self.pools.lock();
        for sc in &cfg.scrape_configs {
            if let Err(e) = loop_options(sc) {
                // As Prometheus counts a pool whose HTTP client cannot be built.
                match pools.get(&sc.job_name) {
                    Some(p) if p.cfg == *sc => {}
                    Some(_) => {
                        self.metrics.reloads.inc();
                        self.metrics.reloads_failed.inc();
                    }
                    None => {
                        self.metrics.pools.inc();
                        self.metrics.pools_failed.inc();
                    }
                }
                return Err(e);
            }
        }
        pools.retain(|job, pool| {
            let keep = cfg.scrape_config(job).is_some();
            if !keep {
                pool.stop(true);
                self.metrics.remove_job(job);
            }
            keep
        });
        for sc in &cfg.scrape_configs {
            let start = Instant::now();
            let reload = match pools.get(&sc.job_name) {
                Some(existing) if existing.cfg == *sc => continue,
                Some(existing) => {
                    existing.stop(false);
                    true
                }
                None => false,
            };
            let pool = ScrapePool::start(
                sc.clone(),
                self.appendable.clone(),
                self.opts.clock.clone(),
                self.opts.timestamp_tolerance,
                self.opts.group_size,
                &self.opts.discovery,
                &self.metrics,
            )?;
            pools.insert(sc.job_name.clone(), pool);
            let job = self.metrics.job(&sc.job_name);
            // Prometheus reloads a changed pool in place (Pharos restarts it), if it has one:
            // it creates a pool on the first targets.
            if reload && job.is_synced() {
                self.metrics.reloads.inc();
                job.target_limit.store(sc.target_limit as i64, Ordering::Relaxed);
                self.metrics.observe_reload(sc.interval().as_std(), start.elapsed());
            }
        }
        Ok(())
    }

    /// The job name of every scrape pool, sorted.
    pub fn scrape_pools(&self) -> Vec<String> {
        self.pools.lock().keys().cloned().collect()
    }

    /// Active and dropped targets of every pool, sorted by pool.
    pub fn targets(&self) -> Targets {
        let pools = self.pools.lock();
        let host = self.global_url_host.lock().clone();
        let mut out = Targets::default();
        for (job, pool) in pools.iter() {
            for t in pool.active_targets() {
                let st = t.state.lock().clone();
                out.active.push(ActiveTarget {
                    discovered_labels: t.discovered_labels(),
                    labels: t.public_labels(),
                    scrape_pool: job.clone(),
                    scrape_url: t.display_url.clone(),
                    global_url: global_url(&t.display_url, &host),
                    last_error: st.last_error,
                    last_scrape_ms: st.last_scrape_ms,
                    last_scrape_duration_seconds: st.last_scrape_duration.as_secs_f64(),
                    health: st.health,
                    scrape_interval: t.labels.get("__scrape_interval__").unwrap_or("").to_string(),
                    scrape_timeout: t.labels.get("__scrape_timeout__").unwrap_or("").to_string(),
                });
            }
            for d in pool.dropped_targets() {
                out.dropped.push(DroppedTarget { discovered_labels: d, scrape_pool: job.clone() });
            }
        }
        out
    }

    /// Metadata per target, for `/api/v1/targets/metadata` (filter by target and metric there).
    pub fn targets_metadata(&self) -> Vec<TargetMetadata> {
        let pools = self.pools.lock();
        let mut out = Vec::new();
        for pool in pools.values() {
            for t in pool.active_targets() {
                let labels = t.public_labels();
                for m in t.metadata.lock().iter() {
                    out.push(TargetMetadata { target: labels.clone(), metadata: m.clone() });
                }
            }
        }
        out
    }

    /// Metadata by metric name with duplicates across targets removed, for `/api/v1/metadata`.
    pub fn metadata(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        let mut out: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
        for tm in self.targets_metadata() {
            let list = out.entry(tm.metadata.metric.clone()).or_default();
            if !list.contains(&tm.metadata) {
                list.push(tm.metadata);
            }
        }
        out
    }

    /// Stops every pool without writing staleness markers (shutdown).
    pub fn stop(&self) {
        let mut pools = self.pools.lock();
        for (job, pool) in pools.iter() {
            pool.stop(false);
            self.metrics.remove_job(job);
        }
        pools.clear();
    }

    /// The scrape and service-discovery self-metrics (`prometheus_target_*`,
    /// `prometheus_sd_*`) now.
    pub fn metrics(&self) -> ScrapeSnapshot {
        let pools = self.pools.lock();
        let mut snap =
            self.metrics.snapshot(|job| pools.get(job).map_or((0, 0), |pool| pool.metadata_size()));
        snap.sd.failed_configs = pools.values().map(|p| p.discovery.failed_configs()).sum();
        snap
    }
}

/// The scrape URL with `localhost`/`127.0.0.1` replaced by `host` when one is set.
fn global_url(url: &str, host: &str) -> String {
    if host.is_empty() {
        return url.to_string();
    }
    for local in ["localhost", "127.0.0.1", "[::1]"] {
        let needle = format!("://{local}");
        if let Some(i) = url.find(&needle) {
            return format!("{}://{host}{}", &url[..i], &url[i + needle.len()..]);
        }
    }
    url.to_string()
}
