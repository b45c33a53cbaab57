//! The notifier's counters, kept as Prometheus 2.42's `notifier/notifier.go` keeps them, and
//! the plain snapshot the server renders as `prometheus_notifications_*`.
//!
//! Per Alertmanager URL: alerts sent (counted per request, whether it succeeded or not, as
//! Prometheus does), failed requests, and the latency of each request measured from the start
//! of the batch (a summary: quantiles over the last ten minutes, sum and count of all). A
//! URL's series appear (at zero) as soon as discovery yields it and stay.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

/// Quantiles of `prometheus_notifications_latency_seconds` (notifier.go's objectives).
pub const LATENCY_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
/// How long a request counts towards the quantiles (client_golang's `DefMaxAge`).
const MAX_AGE: Duration = Duration::from_secs(600);
/// At most this many recent requests are kept for the quantiles.
const MAX_OBSERVATIONS: usize = 1024;

/// The counters of one Alertmanager URL.
#[derive(Debug, Default)]
pub(crate) struct AmCounters {
    sent: AtomicU64,
    errors: AtomicU64,
    latency_count: AtomicU64,
    /// `f64` bits of the latency sum in seconds.
    latency_sum: AtomicU64,
    /// Recent latencies, oldest first.
    recent: Mutex<VecDeque<(Instant, f64)>>,
}

fn expire(recent: &mut VecDeque<(Instant, f64)>, now: Instant) {
    while recent.front().is_some_and(|(t, _)| now.duration_since(*t) > MAX_AGE) {
        recent.pop_front();
    }
    while recent.len() > MAX_OBSERVATIONS {
        recent.pop_front();
    }
}

/// The observation of rank `ceil(q * n)` in `sorted`, NaN if empty.
fn rank_quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl AmCounters {
    /// Records one request carrying `alerts` alerts that took `seconds`.
    pub(crate) fn observe(&self, alerts: u64, ok: bool, seconds: f64) {
        self.observe_at(Instant::now(), alerts, ok, seconds);
    }

    fn observe_at(&self, now: Instant, alerts: u64, ok: bool, seconds: f64) {
        let mut recent = self.recent.lock();
        recent.push_back((now, seconds));
        expire(&mut recent, now);
        drop(recent);
        self.sent.fetch_add(alerts, Ordering::Relaxed);
        if !ok {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let _ = self.latency_sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + seconds).to_bits())
        });
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counters by Alertmanager URL.
#[derive(Debug, Default)]
pub(crate) struct PerAlertmanager(RwLock<BTreeMap<String, Arc<AmCounters>>>);

impl PerAlertmanager {
    /// The counters of `url`, created at zero on first use.
    pub(crate) fn get(&self, url: &str) -> Arc<AmCounters> {
        if let Some(c) = self.0.read().get(url) {
            return c.clone();
        }
        self.0.write().entry(url.to_string()).or_default().clone()
    }

    fn snapshot(&self, now: Instant) -> BTreeMap<String, AlertmanagerSeries> {
        self.0
            .read()
            .iter()
            .map(|(url, c)| {
                let mut recent = c.recent.lock();
                expire(&mut recent, now);
                let mut values: Vec<f64> = recent.iter().map(|(_, v)| *v).collect();
                drop(recent);
                values.sort_by(f64::total_cmp);
                let s = AlertmanagerSeries {
                    latency_quantiles: LATENCY_QUANTILES
                        .iter()
                        .map(|&q| (q, rank_quantile(&values, q)))
                        .collect(),
                    sent_total: c.sent.load(Ordering::Relaxed),
                    errors_total: c.errors.load(Ordering::Relaxed),
                    latency_seconds_sum: f64::from_bits(c.latency_sum.load(Ordering::Relaxed)),
                    latency_seconds_count: c.latency_count.load(Ordering::Relaxed),
                };
                (url.clone(), s)
            })
            .collect()
    }
}

/// The series of one Alertmanager (`alertmanager` label: the URL alerts are posted to).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertmanagerSeries {
    /// `prometheus_notifications_sent_total`.
    pub sent_total: u64,
    /// `prometheus_notifications_errors_total`: failed requests.
    pub errors_total: u64,
    /// (quantile, value) for [`LATENCY_QUANTILES`]; NaN without recent requests.
    pub latency_quantiles: Vec<(f64, f64)>,
    /// `prometheus_notifications_latency_seconds_sum`.
    pub latency_seconds_sum: f64,
    /// `prometheus_notifications_latency_seconds_count`.
    pub latency_seconds_count: u64,
}

/// Everything `prometheus_notifications_*` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifierMetrics {
    pub queue_length: u64,
    pub queue_capacity: u64,
    /// Active Alertmanagers of all sets.
    pub alertmanagers_discovered: u64,
    pub dropped_total: u64,
    pub alertmanagers: BTreeMap<String, AlertmanagerSeries>,
}

/// Builds the snapshot from the notifier's parts.
pub(crate) fn snapshot(
    per_am: &PerAlertmanager,
    queue_length: usize,
    queue_capacity: usize,
    discovered: usize,
    dropped: u64,
) -> NotifierMetrics {
    NotifierMetrics {
        queue_length: queue_length as u64,
        queue_capacity: queue_capacity as u64,
        alertmanagers_discovered: discovered as u64,
        dropped_total: dropped,
        alertmanagers: per_am.snapshot(Instant::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_alerts_failed_requests_and_latency_per_url() {
        let per = PerAlertmanager::default();
        per.get("http://a/api/v2/alerts");
        let b = per.get("http://b/api/v2/alerts");
        b.observe(3, true, 0.25);
        b.observe(2, false, 0.5);
        let s = snapshot(&per, 1, 10, 2, 4);
        let a = &s.alertmanagers["http://a/api/v2/alerts"];
        assert_eq!((a.sent_total, a.errors_total, a.latency_seconds_count), (0, 0, 0));
        assert!(a.latency_quantiles.iter().all(|(_, v)| v.is_nan()), "NaN without requests");
        let want = AlertmanagerSeries {
            sent_total: 5,
            errors_total: 1,
            latency_quantiles: vec![(0.5, 0.25), (0.9, 0.5), (0.99, 0.5)],
            latency_seconds_sum: 0.75,
            latency_seconds_count: 2,
        };
        assert_eq!(s.alertmanagers["http://b/api/v2/alerts"], want);
        assert_eq!((s.queue_length, s.queue_capacity, s.dropped_total), (1, 10, 4));
    }

    #[test]
    fn latency_quantiles_cover_the_last_ten_minutes() {
        let per = PerAlertmanager::default();
        let c = per.get("u");
        let t0 = Instant::now();
        c.observe_at(t0, 1, true, 5.0);
        c.observe_at(t0 + Duration::from_secs(400), 1, true, 1.0);
        let q = |now| per.snapshot(now)["u"].latency_quantiles.clone();
        assert_eq!(q(t0 + Duration::from_secs(500)), vec![(0.5, 1.0), (0.9, 5.0), (0.99, 5.0)]);
        assert_eq!(q(t0 + Duration::from_secs(700)), vec![(0.5, 1.0), (0.9, 1.0), (0.99, 1.0)]);
        assert_eq!(per.snapshot(t0 + Duration::from_secs(700))["u"].latency_seconds_count, 2);
    }
}
