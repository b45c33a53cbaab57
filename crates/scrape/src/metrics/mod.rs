//! Scraping's self-metrics as Prometheus 2.42 keeps them (`scrape/scrape.go`,
//! `scrape/manager.go`): scrape pool creations, reloads and syncs, targets per pool, the actual
//! intervals between scrapes, scrapes refused for a limit, samples the storage refused, and the
//! metadata kept per job; plus service discovery's ([`sd`]).
//!
//! One [`ScrapeMetrics`] per [`crate::Manager`], shared by its pools and loops. The scrape hot
//! path only touches atomics, once per scrape (an interval observation takes one short lock);
//! refused samples are counted where the storage refuses them, which the hot path never sees.
//! [`crate::Manager::metrics`] takes a [`ScrapeSnapshot`] for `/metrics`.

pub mod sd;
pub mod summary;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use storage::StorageError;

pub use sd::{SdMetrics, SdSnapshot};
pub use summary::{Summary, SummarySnapshot};

use summary::SCRAPE_OBJECTIVES;

/// The error a fetch fails with when the body is over `body_size_limit` (both HTTP clients).
pub const BODY_SIZE_LIMIT_EXCEEDED: &str = "body size limit exceeded";

/// A monotonic counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The series of one scrape job (`scrape_job` label). They outlive a pool restarted for a
/// changed config, as Prometheus' outlive a reload, and go with the job.
#[derive(Debug)]
pub(crate) struct JobMetrics {
    /// Whether the pool synced once: Prometheus creates a pool, and its series, on the first
    /// target groups from discovery.
    synced: AtomicBool,
    pub(crate) syncs: Counter,
    pub(crate) sync_failed: Counter,
    pub(crate) sync_length: Summary,
    pub(crate) targets: AtomicU64,
    /// `target_limit` as of the last reload; -1 before any.
    pub(crate) target_limit: AtomicI64,
    pub(crate) discovered_targets: AtomicU64,
}

impl Default for JobMetrics {
    fn default() -> Self {
        JobMetrics {
            synced: AtomicBool::new(false),
            syncs: Counter::default(),
            sync_failed: Counter::default(),
            sync_length: Summary::new(SCRAPE_OBJECTIVES),
            targets: AtomicU64::new(0),
            target_limit: AtomicI64::new(-1),
            discovered_targets: AtomicU64::new(0),
        }
    }
}

/// The counters of every pool and loop of one manager.
#[derive(Debug, Default)]
pub struct ScrapeMetrics {
    pub(crate) pools: Counter,
    pub(crate) pools_failed: Counter,
    pub(crate) reloads: Counter,
    pub(crate) reloads_failed: Counter,
    pub(crate) exceeded_target_limit: Counter,
    pub(crate) exceeded_label_limits: Counter,
    pub(crate) exceeded_sample_limit: Counter,
    pub(crate) exceeded_body_size_limit: Counter,
    pub(crate) sample_duplicate: Counter,
    pub(crate) sample_out_of_order: Counter,
    pub(crate) sample_out_of_bounds: Counter,
    pub(crate) cache_flush_forced: Counter,
    pub(crate) exemplar_out_of_order: Counter,
    intervals: Mutex<BTreeMap<String, Arc<Summary>>>,
    reload_length: Mutex<BTreeMap<String, Arc<Summary>>>,
    jobs: Mutex<BTreeMap<String, Arc<JobMetrics>>>,
    pub(crate) sd: Arc<SdMetrics>,
}

impl JobMetrics {
    /// Whether the job's pool synced (Prometheus would have a pool for it).
    pub(crate) fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }
}

impl ScrapeMetrics {
    /// The series of `job`, created (at zero) if new.
    pub(crate) fn job(&self, job: &str) -> Arc<JobMetrics> {
        self.jobs.lock().entry(job.to_string()).or_default().clone()
    }

    /// The job left the configuration (or the manager stopped): its series go.
    pub(crate) fn remove_job(&self, job: &str) {
        self.jobs.lock().remove(job);
    }

    /// The handle a loop scraping every `interval` counts through.
    pub(crate) fn for_loop(self: &Arc<Self>, interval: Duration) -> LoopMetrics {
        let label = go_duration(interval);
        let summary = self
            .intervals
            .lock()
            .entry(label)
            .or_insert_with(|| Arc::new(Summary::new(SCRAPE_OBJECTIVES)))
            .clone();
        LoopMetrics { shared: self.clone(), interval: summary, last_start: None }
    }

    /// A pool was restarted for a changed config scraping every `interval`, in `took`.
    pub(crate) fn observe_reload(&self, interval: Duration, took: Duration) {
        let summary = self
            .reload_length
            .lock()
            .entry(go_duration(interval))
            .or_insert_with(|| Arc::new(Summary::new(SCRAPE_OBJECTIVES)))
            .clone();
        summary.observe(took.as_secs_f64());
    }

    /// A sync of `job`'s pool: its first creates the pool's series (and counts as the pool's
    /// creation when the job is new).
    pub(crate) fn synced(&self, job: &JobMetrics, took: Duration, failed: u64, targets: u64) {
        if !job.synced.swap(true, Ordering::Relaxed) {
            self.pools.inc();
        }
        job.syncs.inc();
        job.sync_failed.add(failed);
        job.sync_length.observe(took.as_secs_f64());
        job.targets.store(targets, Ordering::Relaxed);
    }

    /// The values of every process-wide family and of each job; `per_job` gives a job's
    /// metadata cache (entries, bytes) and the failed discovery configs are added by the
    /// manager.
    pub(crate) fn snapshot(&self, per_job: impl Fn(&str) -> (u64, u64)) -> ScrapeSnapshot {
        let summaries = |m: &Mutex<BTreeMap<String, Arc<Summary>>>| {
            let m = m.lock();
            m.iter()
                .map(|(k, s)| (k.clone(), s.snapshot()))
                .filter(|(_, s)| s.count > 0)
                .collect::<Vec<_>>()
        };
        let jobs_map = self.jobs.lock();
        let mut jobs = Vec::with_capacity(jobs_map.len());
        let mut discovered = Vec::with_capacity(jobs_map.len());
        for (name, j) in jobs_map.iter() {
            discovered.push((name.clone(), j.discovered_targets.load(Ordering::Relaxed)));
            if !j.synced.load(Ordering::Relaxed) {
                continue;
            }
            let (metadata_entries, metadata_bytes) = per_job(name);
            let limit = j.target_limit.load(Ordering::Relaxed);
            jobs.push(JobSnapshot {
                job: name.clone(),
                targets: j.targets.load(Ordering::Relaxed),
                target_limit: u64::try_from(limit).ok(),
                sync_total: j.syncs.get(),
                sync_failed_total: j.sync_failed.get(),
                sync_length: j.sync_length.snapshot(),
                metadata_entries,
                metadata_bytes,
            });
        }
        drop(jobs_map);
        let mut sd = self.sd.snapshot();
        sd.discovered_targets = discovered;
        ScrapeSnapshot {
            interval_length: summaries(&self.intervals),
            reload_length: summaries(&self.reload_length),
            pools_total: self.pools.get(),
            pools_failed_total: self.pools_failed.get(),
            pool_reloads_total: self.reloads.get(),
            pool_reloads_failed_total: self.reloads_failed.get(),
            exceeded_target_limit_total: self.exceeded_target_limit.get(),
            exceeded_label_limits_total: self.exceeded_label_limits.get(),
            exceeded_sample_limit_total: self.exceeded_sample_limit.get(),
            exceeded_body_size_limit_total: self.exceeded_body_size_limit.get(),
            sample_duplicate_timestamp_total: self.sample_duplicate.get(),
            sample_out_of_order_total: self.sample_out_of_order.get(),
            sample_out_of_bounds_total: self.sample_out_of_bounds.get(),
            cache_flush_forced_total: self.cache_flush_forced.get(),
            exemplar_out_of_order_total: self.exemplar_out_of_order.get(),
            jobs,
            sd,
        }
    }
}

/// What one scrape loop counts through: the shared counters, its interval's summary and the
/// start of its previous scrape.
#[derive(Debug)]
pub struct LoopMetrics {
    shared: Arc<ScrapeMetrics>,
    interval: Arc<Summary>,
    last_start: Option<Instant>,
}

impl Default for LoopMetrics {
    /// Counters of their own (a loop outside a manager).
    fn default() -> Self {
        Arc::new(ScrapeMetrics::default()).for_loop(Duration::ZERO)
    }
}

impl LoopMetrics {
    /// A scrape starts at `now`: the time since the previous one's start is an actual interval.
    pub fn scrape_started(&mut self, now: Instant) {
        if let Some(last) = self.last_start.replace(now) {
            self.interval.observe_at(now, now.saturating_duration_since(last).as_secs_f64());
        }
    }

    /// The fetch failed with `err`.
    pub fn fetch_failed(&self, err: &str) {
        if err == BODY_SIZE_LIMIT_EXCEEDED {
            self.shared.exceeded_body_size_limit.inc();
        }
    }

    /// The scrape had more samples than `sample_limit` (once per scrape).
    pub fn sample_limit_exceeded(&self) {
        self.shared.exceeded_sample_limit.inc();
    }

    /// A series broke `label_limit` or a label length limit.
    pub fn label_limits_exceeded(&self) {
        self.shared.exceeded_label_limits.inc();
    }

    /// A loop flushed its series cache after failed scrapes had grown it.
    pub fn cache_flush_forced(&self) {
        self.shared.cache_flush_forced.inc();
    }

    /// The storage refused a sample with `err`.
    pub fn append_refused(&self, err: &StorageError) {
        match err {
            StorageError::OutOfOrderSample => self.shared.sample_out_of_order.inc(),
            StorageError::DuplicateSampleForTimestamp => self.shared.sample_duplicate.inc(),
            StorageError::OutOfBounds | StorageError::TooOldSample => {
                self.shared.sample_out_of_bounds.inc()
            }
            _ => {}
        }
    }
}

/// One job's series at one moment (only jobs whose pool synced at least once).
#[derive(Debug, Clone, PartialEq)]
pub struct JobSnapshot {
    pub job: String,
    /// `prometheus_target_scrape_pool_targets`.
    pub targets: u64,
    /// `prometheus_target_scrape_pool_target_limit`, set by a reload.
    pub target_limit: Option<u64>,
    pub sync_total: u64,
    pub sync_failed_total: u64,
    pub sync_length: SummarySnapshot,
    /// `prometheus_target_metadata_cache_entries` and `_bytes`.
    pub metadata_entries: u64,
    pub metadata_bytes: u64,
}

/// Every scrape family's values at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeSnapshot {
    /// `prometheus_target_interval_length_seconds` by `interval` (Go's duration notation).
    pub interval_length: Vec<(String, SummarySnapshot)>,
    /// `prometheus_target_reload_length_seconds` by `interval`.
    pub reload_length: Vec<(String, SummarySnapshot)>,
    pub pools_total: u64,
    pub pools_failed_total: u64,
    pub pool_reloads_total: u64,
    pub pool_reloads_failed_total: u64,
    pub exceeded_target_limit_total: u64,
    pub exceeded_label_limits_total: u64,
    pub exceeded_sample_limit_total: u64,
    pub exceeded_body_size_limit_total: u64,
    pub sample_duplicate_timestamp_total: u64,
    pub sample_out_of_order_total: u64,
    pub sample_out_of_bounds_total: u64,
    pub cache_flush_forced_total: u64,
    pub exemplar_out_of_order_total: u64,
    pub jobs: Vec<JobSnapshot>,
    pub sd: SdSnapshot,
}

/// A duration as Go's `time.Duration.String` writes it (`15s`, `1m0s`, `1m30s`, `1h0m0s`,
/// `500ms`, `1.5s`), the `interval` label Prometheus gives these series.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000_000_000 {
        let (unit, scale) = match ns {
            0..1_000 => ("ns", 1),
            1_000..1_000_000 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        return format!("{}{unit}", fraction(ns / scale, ns % scale, scale));
    }
    let (h, rest) = (ns / 3_600_000_000_000, ns % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = fraction(rest / 1_000_000_000, rest % 1_000_000_000, 1_000_000_000);
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// `whole.frac` with the fraction's trailing zeros (and a bare point) trimmed.
fn fraction(whole: u128, frac: u128, scale: u128) -> String {
    if frac == 0 {
        return whole.to_string();
    }
    let digits = scale.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_writes_them() {
        let ms = Duration::from_millis;
        for (d, want) in [
            (ms(15_000), "15s"),
            (ms(60_000), "1m0s"),
            (ms(90_000), "1m30s"),
            (ms(3_600_000), "1h0m0s"),
            (ms(5_430_500), "1h30m30.5s"),
            (ms(500), "500ms"),
            (ms(1_500), "1.5s"),
            (Duration::from_micros(1_500), "1.5ms"),
            (Duration::from_nanos(1_500), "1.5µs"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(go_duration(d), want);
        }
    }

    #[test]
    fn interval_observed_from_the_second_scrape_and_jobs_after_a_sync() {
        let m = Arc::new(ScrapeMetrics::default());
        let mut l = m.for_loop(Duration::from_secs(15));
        let t0 = Instant::now();
        l.scrape_started(t0);
        assert!(m.snapshot(|_| (0, 0)).interval_length.is_empty(), "first scrape: no interval");
        l.scrape_started(t0 + Duration::from_millis(15_020));
        let s = m.snapshot(|_| (0, 0));
        assert_eq!(s.interval_length.len(), 1);
        assert_eq!(s.interval_length[0].0, "15s");
        assert!((s.interval_length[0].1.sum - 15.02).abs() < 1e-9);

        let job = m.job("j");
        job.discovered_targets.store(3, Ordering::Relaxed);
        let s = m.snapshot(|_| (0, 0));
        assert!(s.jobs.is_empty(), "no pool before the first sync");
        assert_eq!((s.sd.discovered_targets[0].1, s.pools_total), (3, 0));
        m.synced(&job, Duration::from_millis(2), 1, 2);
        m.synced(&job, Duration::from_millis(2), 0, 2);
        let s = m.snapshot(|job| if job == "j" { (4, 40) } else { (0, 0) });
        let j = &s.jobs[0];
        assert_eq!((j.sync_total, j.sync_failed_total, j.targets), (2, 1, 2));
        assert_eq!((j.metadata_entries, j.metadata_bytes, j.target_limit), (4, 40, None));
        assert_eq!(s.pools_total, 1, "the first sync creates the pool");
        m.remove_job("j");
        assert!(m.snapshot(|_| (0, 0)).jobs.is_empty());
    }

    #[test]
    fn refused_samples_and_fetch_errors_by_kind() {
        let m = Arc::new(ScrapeMetrics::default());
        let l = m.for_loop(Duration::from_secs(1));
        l.append_refused(&StorageError::OutOfOrderSample);
        l.append_refused(&StorageError::OutOfBounds);
        l.append_refused(&StorageError::TooOldSample);
        l.append_refused(&StorageError::DuplicateSampleForTimestamp);
        l.fetch_failed(BODY_SIZE_LIMIT_EXCEEDED);
        l.fetch_failed("server returned HTTP status 500 Internal Server Error");
        let s = m.snapshot(|_| (0, 0));
        assert_eq!(
            (
                s.sample_out_of_order_total,
                s.sample_out_of_bounds_total,
                s.sample_duplicate_timestamp_total,
                s.exceeded_body_size_limit_total
            ),
            (1, 2, 1, 1)
        );
    }
}
