//! Service discovery's self-metrics as Prometheus 2.42 keeps them (`discovery/manager.go`,
//! `discovery/refresh`, `discovery/file`, `discovery/dns`, `discovery/http`,
//! `discovery/kubernetes`): updates received from providers and handed to the scrape pools,
//! refresh failures and durations per mechanism, file-SD read errors, scan durations and file
//! modification times, DNS lookups, HTTP-SD failures, Kubernetes events and API requests.
//!
//! Counted per refresh, file or event, never per target.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use super::Counter;
use super::summary::{SD_OBJECTIVES, Summary, SummarySnapshot};

/// The refresh-based mechanisms Pharos implements (`mechanism` label).
pub const REFRESH_MECHANISMS: [&str; 2] = ["dns", "http"];

/// The roles and events `prometheus_sd_kubernetes_events_total` is initialised with, as in
/// `discovery/kubernetes/kubernetes.go` (Pharos watches the first four roles).
pub const KUBERNETES_ROLES: [&str; 6] =
    ["endpointslice", "endpoints", "node", "pod", "service", "ingress"];
pub const KUBERNETES_EVENTS: [&str; 3] = ["add", "delete", "update"];

/// A Kubernetes event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeEvent {
    Add = 0,
    Delete = 1,
    Update = 2,
}

/// One refresh-based mechanism: its children exist once a provider of it was created.
#[derive(Debug)]
struct Refresh {
    created: AtomicBool,
    failures: Counter,
    duration: Summary,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh {
            created: AtomicBool::new(false),
            failures: Counter::default(),
            duration: Summary::new(SD_OBJECTIVES),
        }
    }
}

/// The process' service-discovery counters (shared by every pool's providers).
#[derive(Debug)]
pub struct SdMetrics {
    pub(crate) received_updates: Counter,
    pub(crate) updates: Counter,
    pub(crate) updates_delayed: Counter,
    refresh: [Refresh; 2],
    pub(crate) file_read_errors: Counter,
    pub(crate) file_watcher_errors: Counter,
    pub(crate) file_scan_duration: Summary,
    /// Modification time (seconds) of each file a file-SD provider read, by provider.
    file_mtime: Mutex<BTreeMap<(u64, String), f64>>,
    next_provider: AtomicU64,
    pub(crate) dns_lookups: Counter,
    pub(crate) dns_lookup_failures: Counter,
    pub(crate) http_failures: Counter,
    kube_events: [[Counter; 3]; 6],
    kube_requests: Mutex<BTreeMap<String, u64>>,
    kube_request_duration: Mutex<BTreeMap<String, Arc<Summary>>>,
}

impl Default for SdMetrics {
    fn default() -> Self {
        SdMetrics {
            received_updates: Counter::default(),
            updates: Counter::default(),
            updates_delayed: Counter::default(),
            refresh: Default::default(),
            file_read_errors: Counter::default(),
            file_watcher_errors: Counter::default(),
            file_scan_duration: Summary::new(SD_OBJECTIVES),
            file_mtime: Mutex::default(),
            next_provider: AtomicU64::new(0),
            dns_lookups: Counter::default(),
            dns_lookup_failures: Counter::default(),
            http_failures: Counter::default(),
            kube_events: Default::default(),
            kube_requests: Mutex::default(),
            kube_request_duration: Mutex::default(),
        }
    }
}

/// The refresh metrics of one mechanism, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshSnapshot {
    pub mechanism: &'static str,
    pub failures_total: u64,
    pub duration: SummarySnapshot,
}

/// Every service-discovery family's values at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SdSnapshot {
    /// `prometheus_sd_failed_configs{name="scrape"}`.
    pub failed_configs: u64,
    /// `prometheus_sd_discovered_targets{name="scrape",config}`: (config, targets).
    pub discovered_targets: Vec<(String, u64)>,
    pub received_updates_total: u64,
    pub updates_total: u64,
    pub updates_delayed_total: u64,
    /// Mechanisms of which a provider was created.
    pub refresh: Vec<RefreshSnapshot>,
    pub file_read_errors_total: u64,
    pub file_watcher_errors_total: u64,
    pub file_scan_duration: SummarySnapshot,
    /// (file name, mtime in seconds) of the files current file-SD providers read.
    pub file_mtime_seconds: Vec<(String, f64)>,
    pub dns_lookups_total: u64,
    pub dns_lookup_failures_total: u64,
    pub http_failures_total: u64,
    /// (role, event, count) for every role and event of [`KUBERNETES_ROLES`] and
    /// [`KUBERNETES_EVENTS`].
    pub kubernetes_events_total: Vec<(&'static str, &'static str, u64)>,
    /// (status code, count) of requests to the Kubernetes API.
    pub kubernetes_http_requests_total: Vec<(String, u64)>,
    /// (endpoint path, summary without quantiles) of requests to the Kubernetes API.
    pub kubernetes_http_request_duration: Vec<(String, SummarySnapshot)>,
}

impl SdMetrics {
    fn refresh(&self, mechanism: &str) -> Option<&Refresh> {
        let i = REFRESH_MECHANISMS.iter().position(|m| *m == mechanism)?;
        Some(&self.refresh[i])
    }

    /// A refresh-based provider of `mechanism` was created: its series appear (at zero).
    pub(crate) fn refresh_created(&self, mechanism: &str) {
        if let Some(r) = self.refresh(mechanism) {
            r.created.store(true, Ordering::Relaxed);
        }
    }

    /// One refresh of `mechanism` that took `seconds`, failed or not.
    pub(crate) fn refresh_done(&self, mechanism: &str, seconds: f64, failed: bool) {
        if let Some(r) = self.refresh(mechanism) {
            r.created.store(true, Ordering::Relaxed);
            r.duration.observe(seconds);
            if failed {
                r.failures.inc();
            }
        }
    }

    /// A new file-SD provider's identity for its modification times.
    pub(crate) fn file_provider_id(&self) -> u64 {
        self.next_provider.fetch_add(1, Ordering::Relaxed)
    }

    /// Replaces the modification times of provider `id`'s files.
    pub(crate) fn set_file_mtimes(&self, id: u64, files: &[(String, f64)]) {
        let mut m = self.file_mtime.lock();
        m.retain(|(p, _), _| *p != id);
        for (name, mtime) in files {
            m.insert((id, name.clone()), *mtime);
        }
    }

    /// The provider `id` stopped: its files' times go.
    pub(crate) fn remove_file_provider(&self, id: u64) {
        self.file_mtime.lock().retain(|(p, _), _| *p != id);
    }

    pub(crate) fn kubernetes_event(&self, role: &str, event: KubeEvent) {
        if let Some(i) = KUBERNETES_ROLES.iter().position(|r| *r == role) {
            self.kube_events[i][event as usize].inc();
        }
    }

    /// One request to the Kubernetes API at `path` answered with `code` (`"<error>"` when no
    /// response came) after `seconds`.
    pub(crate) fn kubernetes_request(&self, path: &str, code: &str, seconds: f64) {
        *self.kube_requests.lock().entry(code.to_string()).or_default() += 1;
        let summary = self
            .kube_request_duration
            .lock()
            .entry(path.to_string())
            .or_insert_with(|| Arc::new(Summary::new(&[])))
            .clone();
        summary.observe(seconds);
    }

    /// The process-wide values; the manager adds the per-config ones.
    pub(crate) fn snapshot(&self) -> SdSnapshot {
        let refresh = REFRESH_MECHANISMS
            .iter()
            .zip(&self.refresh)
            .filter(|(_, r)| r.created.load(Ordering::Relaxed))
            .map(|(m, r)| RefreshSnapshot {
                mechanism: m,
                failures_total: r.failures.get(),
                duration: r.duration.snapshot(),
            })
            .collect();
        let mut file_mtime_seconds: Vec<(String, f64)> =
            self.file_mtime.lock().iter().map(|((_, f), t)| (f.clone(), *t)).collect();
        file_mtime_seconds.sort_by(|a, b| a.0.cmp(&b.0));
        file_mtime_seconds.dedup_by(|a, b| a.0 == b.0);
        let mut kubernetes_events_total = Vec::new();
        for (role, counters) in KUBERNETES_ROLES.iter().zip(&self.kube_events) {
            for (event, c) in KUBERNETES_EVENTS.iter().zip(counters) {
                kubernetes_events_total.push((*role, *event, c.get()));
            }
        }
        SdSnapshot {
            failed_configs: 0,
            discovered_targets: Vec::new(),
            received_updates_total: self.received_updates.get(),
            updates_total: self.updates.get(),
            updates_delayed_total: self.updates_delayed.get(),
            refresh,
            file_read_errors_total: self.file_read_errors.get(),
            file_watcher_errors_total: self.file_watcher_errors.get(),
            file_scan_duration: self.file_scan_duration.snapshot(),
            file_mtime_seconds,
            dns_lookups_total: self.dns_lookups.get(),
            dns_lookup_failures_total: self.dns_lookup_failures.get(),
            http_failures_total: self.http_failures.get(),
            kubernetes_events_total,
            kubernetes_http_requests_total: self
                .kube_requests
                .lock()
                .iter()
                .map(|(c, n)| (c.clone(), *n))
                .collect(),
            kubernetes_http_request_duration: self
                .kube_request_duration
                .lock()
                .iter()
                .map(|(p, s)| (p.clone(), s.snapshot()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_series_appear_once_a_provider_exists() {
        let m = SdMetrics::default();
        assert!(m.snapshot().refresh.is_empty());
        m.refresh_created("http");
        m.refresh_done("http", 0.5, true);
        m.refresh_done("http", 0.25, false);
        let s = m.snapshot();
        assert_eq!(s.refresh.len(), 1);
        assert_eq!((s.refresh[0].mechanism, s.refresh[0].failures_total), ("http", 1));
        assert_eq!(s.refresh[0].duration.count, 2);
    }

    #[test]
    fn file_mtimes_follow_their_provider_and_events_are_preinitialised() {
        let m = SdMetrics::default();
        let (a, b) = (m.file_provider_id(), m.file_provider_id());
        m.set_file_mtimes(a, &[("/x.json".into(), 10.0), ("/y.yml".into(), 11.0)]);
        m.set_file_mtimes(b, &[("/z.json".into(), 12.0)]);
        m.set_file_mtimes(a, &[("/y.yml".into(), 13.0)]);
        let files = m.snapshot().file_mtime_seconds;
        assert_eq!(files, vec![("/y.yml".to_string(), 13.0), ("/z.json".to_string(), 12.0)]);
        m.remove_file_provider(b);
        assert_eq!(m.snapshot().file_mtime_seconds.len(), 1);
        m.kubernetes_event("pod", KubeEvent::Update);
        m.kubernetes_event("unknown-role", KubeEvent::Add);
        let ev = m.snapshot().kubernetes_events_total;
        assert_eq!(ev.len(), 18);
        assert!(ev.contains(&("pod", "update", 1)));
        assert_eq!(ev.iter().map(|e| e.2).sum::<u64>(), 1);
    }
}
