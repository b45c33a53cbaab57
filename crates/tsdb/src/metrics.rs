//! The database's own counters and gauges: what Prometheus exposes as `prometheus_tsdb_*`
//! (head series, head and block time bounds, blocks, compactions, truncations, checkpoints,
//! retention, WAL syncs, replay time), kept as atomics by the code paths that do the work and
//! read as one [`DbMetrics`] value for the server to encode.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// Upper bounds of Prometheus' `prometheus_tsdb_compaction_duration_seconds` buckets
/// (exponential from 1 s, factor 2, 14 buckets).
pub const COMPACTION_DURATION_BUCKETS: [f64; 14] =
    [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0];

/// Durations observed into fixed buckets: per-bucket (not cumulative) counts, the sum and the
/// count.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Observations at most each bound of [`COMPACTION_DURATION_BUCKETS`] and above the one
    /// before; the last entry counts those above every bound.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    fn new() -> Histogram {
        Histogram { counts: vec![0; COMPACTION_DURATION_BUCKETS.len() + 1], sum: 0.0, count: 0 }
    }

    fn observe(&mut self, secs: f64) {
        let i = COMPACTION_DURATION_BUCKETS.iter().position(|&b| secs <= b);
        let i = i.unwrap_or(COMPACTION_DURATION_BUCKETS.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.sum += secs;
        self.count += 1;
    }

    /// Cumulative counts per bound (`le`), ending with `+Inf`, as the exposition writes them.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let bounds = COMPACTION_DURATION_BUCKETS.iter().copied().chain([f64::INFINITY]);
        bounds
            .zip(&self.counts)
            .map(|(b, c)| {
                acc += c;
                (b, acc)
            })
            .collect()
    }
}

/// A summary without quantiles: the sum and count of observed durations in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub sum: f64,
    pub count: u64,
}

/// Event counters, bumped where the work happens.
#[derive(Debug)]
pub(crate) struct Metrics {
    pub series_removed: AtomicU64,
    pub head_truncations: AtomicU64,
    pub head_truncations_failed: AtomicU64,
    pub compactions: AtomicU64,
    pub compactions_failed: AtomicU64,
    pub compactions_triggered: AtomicU64,
    pub reloads: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub time_retentions: AtomicU64,
    pub size_retentions: AtomicU64,
    pub checkpoint_creations: AtomicU64,
    pub checkpoint_creations_failed: AtomicU64,
    pub checkpoint_deletions: AtomicU64,
    pub wal_truncations: AtomicU64,
    pub wal_truncations_failed: AtomicU64,
    compaction_duration: Mutex<Histogram>,
    wal_truncate_duration: Mutex<Summary>,
    wal_fsync_duration: Mutex<Summary>,
    /// How long opening the database took to fill the head, in nanoseconds.
    pub replay_nanos: AtomicU64,
    /// The WAL segment written to, as last seen.
    pub wal_segment: AtomicU64,
    /// Samples committed (in order and out of order, as Prometheus counts them), and those of
    /// them committed out of order (inside the out-of-order window).
    pub samples_appended: AtomicU64,
    pub ooo_samples_appended: AtomicU64,
    /// Samples refused at append: out of order, before the head's lower bound (no
    /// out-of-order window), or older than the out-of-order window.
    pub out_of_order_rejected: AtomicU64,
    pub out_of_bound_rejected: AtomicU64,
    pub too_old_rejected: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            series_removed: AtomicU64::new(0),
            head_truncations: AtomicU64::new(0),
            head_truncations_failed: AtomicU64::new(0),
            compactions: AtomicU64::new(0),
            compactions_failed: AtomicU64::new(0),
            compactions_triggered: AtomicU64::new(0),
            reloads: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            time_retentions: AtomicU64::new(0),
            size_retentions: AtomicU64::new(0),
            checkpoint_creations: AtomicU64::new(0),
            checkpoint_creations_failed: AtomicU64::new(0),
            checkpoint_deletions: AtomicU64::new(0),
            wal_truncations: AtomicU64::new(0),
            wal_truncations_failed: AtomicU64::new(0),
            compaction_duration: Mutex::new(Histogram::new()),
            wal_truncate_duration: Mutex::new(Summary::default()),
            wal_fsync_duration: Mutex::new(Summary::default()),
            replay_nanos: AtomicU64::new(0),
            wal_segment: AtomicU64::new(0),
            samples_appended: AtomicU64::new(0),
            ooo_samples_appended: AtomicU64::new(0),
            out_of_order_rejected: AtomicU64::new(0),
            out_of_bound_rejected: AtomicU64::new(0),
            too_old_rejected: AtomicU64::new(0),
        }
    }

    /// Counts an append refused with `e`, as Prometheus counts refusals by kind.
    pub fn rejected(&self, e: &storage::StorageError) {
        use storage::StorageError as E;
        match e {
            E::OutOfOrderSample => Metrics::inc(&self.out_of_order_rejected),
            E::OutOfBounds => Metrics::inc(&self.out_of_bound_rejected),
            E::TooOldSample => Metrics::inc(&self.too_old_rejected),
            _ => {}
        }
    }

    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one compaction (a head range written as a block, or blocks merged) that took
    /// `took`, and whether it failed.
    pub fn compaction(&self, took: Duration, ok: bool) {
        Metrics::inc(&self.compactions);
        if !ok {
            Metrics::inc(&self.compactions_failed);
        }
        self.compaction_duration.lock().observe(took.as_secs_f64());
    }

    pub fn wal_truncation(&self, took: Duration, ok: bool) {
        Metrics::inc(&self.wal_truncations);
        if !ok {
            Metrics::inc(&self.wal_truncations_failed);
        }
        let mut s = self.wal_truncate_duration.lock();
        s.sum += took.as_secs_f64();
        s.count += 1;
    }

    pub fn wal_fsync(&self, took: Duration) {
        let mut s = self.wal_fsync_duration.lock();
        s.sum += took.as_secs_f64();
        s.count += 1;
    }
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Everything the server exposes about the database, read at one moment. Times are
/// milliseconds; an empty head has `head_min_time = i64::MAX` and `head_max_time = i64::MIN`,
/// as Prometheus reports them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbMetrics {
    pub head_series: u64,
    pub head_series_created_total: u64,
    pub head_series_removed_total: u64,
    pub head_min_time: i64,
    pub head_max_time: i64,
    pub lowest_timestamp: i64,
    pub blocks_loaded: u64,
    pub storage_blocks_bytes: u64,
    pub retention_limit_bytes: u64,
    pub wal_segment_current: u64,
    pub head_truncations_total: u64,
    pub head_truncations_failed_total: u64,
    pub compactions_total: u64,
    pub compactions_failed_total: u64,
    pub compactions_triggered_total: u64,
    pub compaction_duration_seconds: Histogram,
    pub reloads_total: u64,
    pub reloads_failures_total: u64,
    pub time_retentions_total: u64,
    pub size_retentions_total: u64,
    pub checkpoint_creations_total: u64,
    pub checkpoint_creations_failed_total: u64,
    pub checkpoint_deletions_total: u64,
    pub wal_truncations_total: u64,
    pub wal_truncations_failed_total: u64,
    pub wal_truncate_duration_seconds: Summary,
    pub wal_fsync_duration_seconds: Summary,
    pub wal_corruptions_total: u64,
    pub data_replay_duration_seconds: f64,
    pub head_samples_appended_total: u64,
    pub head_out_of_order_samples_appended_total: u64,
    pub out_of_order_samples_total: u64,
    pub out_of_bound_samples_total: u64,
    pub too_old_samples_total: u64,
}

impl Metrics {
    /// Fills the event counters of `out`; the caller fills the gauges.
    pub fn read_into(&self, out: &mut DbMetrics) {
        out.head_series_removed_total = get(&self.series_removed);
        out.head_truncations_total = get(&self.head_truncations);
        out.head_truncations_failed_total = get(&self.head_truncations_failed);
        out.compactions_total = get(&self.compactions);
        out.compactions_failed_total = get(&self.compactions_failed);
        out.compactions_triggered_total = get(&self.compactions_triggered);
        out.compaction_duration_seconds = self.compaction_duration.lock().clone();
        out.reloads_total = get(&self.reloads);
        out.reloads_failures_total = get(&self.reloads_failed);
        out.time_retentions_total = get(&self.time_retentions);
        out.size_retentions_total = get(&self.size_retentions);
        out.checkpoint_creations_total = get(&self.checkpoint_creations);
        out.checkpoint_creations_failed_total = get(&self.checkpoint_creations_failed);
        out.checkpoint_deletions_total = get(&self.checkpoint_deletions);
        out.wal_truncations_total = get(&self.wal_truncations);
        out.wal_truncations_failed_total = get(&self.wal_truncations_failed);
        out.wal_truncate_duration_seconds = *self.wal_truncate_duration.lock();
        out.wal_fsync_duration_seconds = *self.wal_fsync_duration.lock();
        out.data_replay_duration_seconds = get(&self.replay_nanos) as f64 / 1e9;
        out.head_samples_appended_total = get(&self.samples_appended);
        out.head_out_of_order_samples_appended_total = get(&self.ooo_samples_appended);
        out.out_of_order_samples_total = get(&self.out_of_order_rejected);
        out.out_of_bound_samples_total = get(&self.out_of_bound_rejected);
        out.too_old_samples_total = get(&self.too_old_rejected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        let mut h = Histogram::new();
        for s in [0.5, 1.0, 1.5, 3.0, 10_000.0] {
            h.observe(s);
        }
        let c = h.cumulative();
        assert_eq!(c.len(), 15);
        assert_eq!(c[0], (1.0, 2));
        assert_eq!(c[1], (2.0, 3));
        assert_eq!(c[2], (4.0, 4));
        assert_eq!(c[13], (8192.0, 4));
        assert_eq!(c[14], (f64::INFINITY, 5));
        assert_eq!(h.count, 5);
        assert!((h.sum - 10_006.0).abs() < 1e-9);
    }
}
