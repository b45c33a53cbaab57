//! A scrape pool: the targets of one scrape config, kept in sync with discovery.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use model::Labels;
use model::relabel::RelabelConfig;
use parking_lot::Mutex;
use storage::Appendable;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::discovery::{self, DiscoveryConfigs, DiscoveryOptions, ProviderMetrics, TargetGroup};
use crate::metrics::{JobMetrics, ScrapeMetrics};
use crate::scrape_loop::{Limits, LoopOptions, ScrapeLoop};
use crate::spread::Spread;
use crate::target::{Populated, Target, populate_labels};
use crate::{Clock, ScrapeError};

struct LoopHandle {
    target: Arc<Target>,
    cancel: CancellationToken,
    stale_on_stop: Arc<AtomicBool>,
    forced_error: Arc<Mutex<Option<String>>>,
}

#[derive(Default)]
struct PoolState {
    groups: BTreeMap<usize, Vec<TargetGroup>>,
    active: HashMap<u64, LoopHandle>,
    dropped: Vec<Labels>,
}

/// The targets and loops of one scrape config.
pub(crate) struct ScrapePool {
    pub(crate) cfg: config::ScrapeConfig,
    opts: Arc<LoopOptions>,
    relabel: Vec<RelabelConfig>,
    client: reqwest::Client,
    appendable: Arc<dyn Appendable>,
    clock: Arc<dyn Clock>,
    timestamp_tolerance: Option<std::time::Duration>,
    /// Targets scraped together at one wake-up (see [`Spread`]).
    group_size: usize,
    state: Mutex<PoolState>,
    cancel: CancellationToken,
    metrics: Arc<ScrapeMetrics>,
    job: Arc<JobMetrics>,
    /// This pool's discovery: its providers that failed to start count here.
    pub(crate) discovery: ProviderMetrics,
}

/// Validates a scrape config and builds what its loops share.
pub(crate) fn loop_options(
    cfg: &config::ScrapeConfig,
) -> Result<(Arc<LoopOptions>, Vec<RelabelConfig>, reqwest::Client), ScrapeError> {
    let job = cfg.job_name.clone();
    let invalid = |msg: String| ScrapeError::InvalidConfig { job: job.clone(), msg };
    let relabel = config::compile_relabel_configs(&cfg.relabel_configs).map_err(invalid)?;
    let metric_relabel =
        config::compile_relabel_configs(&cfg.metric_relabel_configs).map_err(invalid)?;
    let http = cfg.http_client();
    let client = crate::http_client::build(&http, cfg.enable_compression)
        .map_err(|msg| ScrapeError::HttpClient { job: job.clone(), msg })?;
    let opts = LoopOptions {
        interval: cfg.interval().as_std(),
        timeout: cfg.timeout().as_std(),
        honor_labels: cfg.honor_labels,
        honor_timestamps: cfg.honor_timestamps,
        metric_relabel,
        limits: Limits {
            sample_limit: cfg.sample_limit,
            label_limit: cfg.label_limit,
            label_name_length_limit: cfg.label_name_length_limit,
            label_value_length_limit: cfg.label_value_length_limit,
            body_size_limit: cfg.body_size_limit.0,
        },
        http,
        compression: cfg.enable_compression,
    };
    Ok((Arc::new(opts), relabel, client))
}

impl ScrapePool {
    /// Starts discovery and the pool's sync task.
    pub(crate) fn start(
        cfg: config::ScrapeConfig,
        appendable: Arc<dyn Appendable>,
        clock: Arc<dyn Clock>,
        timestamp_tolerance: Option<std::time::Duration>,
        group_size: usize,
        dopts: &DiscoveryOptions,
        metrics: &Arc<ScrapeMetrics>,
    ) -> Result<Arc<ScrapePool>, ScrapeError> {
        let (opts, relabel, client) = loop_options(&cfg)?;
        let job = metrics.job(&cfg.job_name);
        let pool = Arc::new(ScrapePool {
            metrics: metrics.clone(),
            job,
            discovery: ProviderMetrics::new(metrics.sd.clone()),
            cfg,
            opts,
            relabel,
            client,
            appendable,
            clock,
            timestamp_tolerance,
            group_size,
            state: Mutex::new(PoolState::default()),
            cancel: CancellationToken::new(),
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        discovery::start_providers(
            &DiscoveryConfigs::from_scrape_config(&pool.cfg),
            dopts,
            tx,
            pool.cancel.clone(),
            &pool.discovery,
        );
        let weak = Arc::downgrade(&pool);
        let cancel = pool.cancel.clone();
        tokio::spawn(async move {
            loop {
                let update = tokio::select! {
                    _ = cancel.cancelled() => return,
                    u = rx.recv() => u,
                };
                let Some((idx, groups)) = update else { return };
                let Some(pool) = weak.upgrade() else { return };
                let sd = &pool.metrics.sd;
                sd.received_updates.inc();
                let mut st = pool.state.lock();
                st.groups.insert(idx, groups);
                // Updates that arrived meanwhile go into the same sync.
                while let Ok((idx, groups)) = rx.try_recv() {
                    sd.received_updates.inc();
                    st.groups.insert(idx, groups);
                }
                drop(st);
                sd.updates.inc();
                pool.sync();
            }
        });
        Ok(pool)
    }

    /// Recomputes targets from the current groups; starts new loops and stops vanished ones.
    fn sync(&self) {
        let start = Instant::now();
        let mut st = self.state.lock();
        let mut wanted: Vec<(u64, Arc<Target>)> = Vec::new();
        let mut dropped = Vec::new();
        let (mut discovered, mut failed) = (0, 0);
        for group in st.groups.values().flatten() {
            discovered += group.targets.len() as u64;
            for t in &group.targets {
                let merged = merge(&group.labels, t);
                match populate_labels(&merged, &self.cfg, &self.relabel) {
                    Ok(Populated::Target { labels, discovered }) => {
                        let target = Target::new(labels, discovered, &self.cfg.params);
                        let h = target.hash();
                        // As Prometheus: duplicates are one target showing the discovered
                        // labels of the last of them.
                        match wanted.iter().find(|(x, _)| *x == h) {
                            Some((_, first)) => {
                                first.set_discovered_labels(target.discovered_labels())
                            }
                            None => wanted.push((h, target)),
                        }
                    }
                    Ok(Populated::Dropped { discovered }) => dropped.push(discovered),
                    Err(e) => {
                        failed += 1;
                        tracing::warn!(job = %self.cfg.job_name, err = %e, "creating target failed")
                    }
                }
            }
        }
        if self.cfg.keep_dropped_targets > 0 {
            dropped.truncate(self.cfg.keep_dropped_targets as usize);
        }
        st.dropped = dropped;
        let keep: std::collections::HashSet<u64> = wanted.iter().map(|(h, _)| *h).collect();
        st.active.retain(|h, handle| {
            if keep.contains(h) {
                return true;
            }
            handle.stale_on_stop.store(true, Ordering::SeqCst);
            handle.cancel.cancel();
            false
        });
        // Loops already running keep their offsets; new ones are placed for the pool's size now.
        let spread = Spread::for_pool(
            &self.cfg.job_name,
            wanted.len(),
            self.group_size,
            self.opts.interval.as_millis() as i64,
        );
        for (h, target) in wanted {
            if let Some(running) = st.active.get(&h) {
                running.target.set_discovered_labels(target.discovered_labels());
                continue;
            }
            let handle = self.start_loop(target, spread);
            st.active.insert(h, handle);
        }
        self.apply_target_limit(&st);
        let targets = st.active.len() as u64;
        drop(st);
        self.job.discovered_targets.store(discovered, Ordering::Relaxed);
        self.metrics.synced(&self.job, start.elapsed(), failed, targets);
    }

    fn start_loop(&self, target: Arc<Target>, spread: Spread) -> LoopHandle {
        let opts = per_target_options(&self.opts, &target);
        let interval = opts.interval;
        let mut sl = ScrapeLoop::new(
            target.clone(),
            opts,
            self.client.clone(),
            self.appendable.clone(),
            self.clock.clone(),
        );
        sl.metrics = self.metrics.for_loop(interval);
        sl.timestamp_tolerance = self.timestamp_tolerance;
        sl.spread = spread;
        let forced_error = sl.forced_error.clone();
        let cancel = self.cancel.child_token();
        let stale_on_stop = Arc::new(AtomicBool::new(false));
        tokio::spawn(sl.run(cancel.clone(), stale_on_stop.clone()));
        LoopHandle { target, cancel, stale_on_stop, forced_error }
    }

    fn apply_target_limit(&self, st: &PoolState) {
        let limit = self.cfg.target_limit;
        let n = st.active.len() as u64;
        let err = (limit > 0 && n > limit)
            .then(|| format!("target_limit exceeded (number of targets: {n}, limit: {limit})"));
        if err.is_some() {
            self.metrics.exceeded_target_limit.inc();
        }
        for h in st.active.values() {
            *h.forced_error.lock() = err.clone();
        }
    }

    /// Stops discovery and every loop; `stale` writes staleness markers for their series.
    pub(crate) fn stop(&self, stale: bool) {
        let st = self.state.lock();
        for h in st.active.values() {
            h.stale_on_stop.store(stale, Ordering::SeqCst);
        }
        self.cancel.cancel();
    }

    pub(crate) fn active_targets(&self) -> Vec<Arc<Target>> {
        let st = self.state.lock();
        let mut v: Vec<Arc<Target>> = st.active.values().map(|h| h.target.clone()).collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }

    /// The active targets' metadata: (entries, bytes of help, unit and type), as Prometheus
    /// sizes its metadata cache.
    pub(crate) fn metadata_size(&self) -> (u64, u64) {
        let st = self.state.lock();
        let (mut entries, mut bytes) = (0, 0);
        for h in st.active.values() {
            let metadata = h.target.metadata.lock();
            entries += metadata.len() as u64;
            for m in metadata.iter() {
                bytes += (m.help.len() + m.unit.len() + m.metric_type.as_str().len()) as u64;
            }
        }
        (entries, bytes)
    }

    pub(crate) fn dropped_targets(&self) -> Vec<Labels> {
        self.state.lock().dropped.clone()
    }
}

impl Drop for ScrapePool {
    /// A dropped pool (a dropped manager) stops its discovery and loops, without staleness.
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The pool's options with the interval and timeout the target's `__scrape_interval__` and
/// `__scrape_timeout__` labels ask for (relabeling may change them per target).
fn per_target_options(opts: &Arc<LoopOptions>, target: &Target) -> Arc<LoopOptions> {
    let get = |name: &str| {
        target
            .labels
            .get(name)
            .and_then(|v| model::duration::parse_duration(v).ok())
            .map(|ms| std::time::Duration::from_millis(ms.max(0) as u64))
    };
    let (interval, timeout) = (get("__scrape_interval__"), get("__scrape_timeout__"));
    if interval.is_none_or(|i| i == opts.interval) && timeout.is_none_or(|t| t == opts.timeout) {
        return opts.clone();
    }
    let mut o = (**opts).clone();
    o.interval = interval.unwrap_or(o.interval);
    o.timeout = timeout.unwrap_or(o.timeout);
    Arc::new(o)
}

/// Group labels with the target's own labels on top.
pub(crate) fn merge(group: &Labels, target: &Labels) -> Labels {
    if group.is_empty() {
        return target.clone();
    }
    let mut lb = group.builder();
    for l in target.iter() {
        lb.set(&l.name, &l.value);
    }
    lb.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabeled_interval_and_timeout_apply_per_target() {
        let cfg = config::ScrapeConfig::new("j");
        let Ok((opts, _, _)) = loop_options(&cfg) else { panic!("valid config") };
        let plain =
            Target::new(Labels::new([("__address__", "a:1")]), Labels::empty(), &cfg.params);
        assert!(Arc::ptr_eq(&per_target_options(&opts, &plain), &opts));
        let labels = Labels::new([
            ("__address__", "a:1"),
            ("__scrape_interval__", "5s"),
            ("__scrape_timeout__", "2s"),
        ]);
        let custom = Target::new(labels, Labels::empty(), &cfg.params);
        let o = per_target_options(&opts, &custom);
        assert_eq!((o.interval.as_secs(), o.timeout.as_secs()), (5, 2));
    }
}
