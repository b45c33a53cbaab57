//! Alertmanager 0.25's notification counters (`notify/notify.go`), per integration kind:
//! notifications attempted and failed (one per send, retries included), requests attempted
//! and failed (one per attempt) and the latency of each attempt in a histogram with buckets
//! 1, 5, 10, 15 and 20 seconds. Atomics only; a snapshot for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Kinds counted: Alertmanager 0.25's, in its order, then `msteams`, which only Pharos
/// delivers to (shown when configured or used).
const KINDS: [&str; 11] = [
    "email",
    "pagerduty",
    "wechat",
    "pushover",
    "slack",
    "opsgenie",
    "webhook",
    "victorops",
    "sns",
    "telegram",
    "msteams",
];

/// The integration kinds Alertmanager 0.25 names and pre-creates series for at zero: every
/// kind counted but the last.
pub const ALERTMANAGER_INTEGRATIONS: &[&str] = KINDS.split_at(KINDS.len() - 1).0;

/// Upper bounds of the latency histogram's buckets (`+Inf` implied).
pub const LATENCY_BUCKETS: [f64; 5] = [1.0, 5.0, 10.0, 15.0, 20.0];

#[derive(Default)]
struct Counters {
    notifications: AtomicU64,
    notifications_failed: AtomicU64,
    requests: AtomicU64,
    requests_failed: AtomicU64,
    /// Per bucket (not cumulative), the last one `+Inf`.
    latency_buckets: [AtomicU64; 6],
    latency_sum: AtomicU64,
    latency_count: AtomicU64,
}

/// The counters of every integration kind.
#[derive(Default)]
pub struct NotifyMetrics {
    kinds: [Counters; 11],
}

impl std::fmt::Debug for NotifyMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyMetrics").finish_non_exhaustive()
    }
}

/// One integration kind's values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntegrationSeries {
    pub integration: &'static str,
    pub notifications_total: u64,
    pub notifications_failed_total: u64,
    pub requests_total: u64,
    pub requests_failed_total: u64,
    /// Cumulative counts for each of [`LATENCY_BUCKETS`], then `+Inf`.
    pub latency_buckets: [u64; 6],
    pub latency_sum: f64,
    pub latency_count: u64,
}

impl NotifyMetrics {
    fn get(&self, kind: &str) -> Option<&Counters> {
        KINDS.iter().position(|k| *k == kind).map(|i| &self.kinds[i])
    }

    /// One notification handed to `kind` (however many attempts it takes).
    pub fn notification(&self, kind: &str, success: bool) {
        if let Some(c) = self.get(kind) {
            c.notifications.fetch_add(1, Ordering::Relaxed);
            if !success {
                c.notifications_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// One request (attempt) to `kind` that took `seconds`.
    pub fn request(&self, kind: &str, success: bool, seconds: f64) {
        let Some(c) = self.get(kind) else { return };
        c.requests.fetch_add(1, Ordering::Relaxed);
        if !success {
            c.requests_failed.fetch_add(1, Ordering::Relaxed);
        }
        let bucket = LATENCY_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(5);
        c.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let _ = c.latency_sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + seconds).to_bits())
        });
        c.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Alertmanager's kinds always, other kinds when `configured` names them or they were used.
    pub fn snapshot(&self, configured: &[&str]) -> Vec<IntegrationSeries> {
        let mut out = Vec::new();
        for (i, kind) in KINDS.iter().enumerate() {
            let c = &self.kinds[i];
            let n = c.notifications.load(Ordering::Relaxed);
            if !ALERTMANAGER_INTEGRATIONS.contains(kind) && !configured.contains(kind) && n == 0 {
                continue;
            }
            let mut cumulative = 0;
            let mut buckets = [0; 6];
            for (b, slot) in buckets.iter_mut().enumerate() {
                cumulative += c.latency_buckets[b].load(Ordering::Relaxed);
                *slot = cumulative;
            }
            out.push(IntegrationSeries {
                integration: kind,
                notifications_total: n,
                notifications_failed_total: c.notifications_failed.load(Ordering::Relaxed),
                requests_total: c.requests.load(Ordering::Relaxed),
                requests_failed_total: c.requests_failed.load(Ordering::Relaxed),
                latency_buckets: buckets,
                latency_sum: f64::from_bits(c.latency_sum.load(Ordering::Relaxed)),
                latency_count: c.latency_count.load(Ordering::Relaxed),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_kind_with_cumulative_buckets() {
        let m = NotifyMetrics::default();
        m.notification("webhook", false);
        m.request("webhook", false, 0.5);
        m.request("webhook", false, 7.0);
        m.request("webhook", true, 30.0);
        let s = m.snapshot(&[]);
        assert_eq!(s.len(), 10, "msteams only when configured or used");
        let w = s.iter().find(|s| s.integration == "webhook").unwrap();
        assert_eq!((w.notifications_total, w.notifications_failed_total), (1, 1));
        assert_eq!((w.requests_total, w.requests_failed_total), (3, 2));
        assert_eq!(w.latency_buckets, [1, 1, 2, 2, 2, 3]);
        assert_eq!((w.latency_sum, w.latency_count), (37.5, 3));
        assert_eq!(m.snapshot(&["msteams"]).len(), 11);
    }
}
