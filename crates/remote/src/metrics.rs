//! Remote write's counters as Prometheus 2.42 keeps them (`storage/remote/queue_manager.go`,
//! `write.go`), and the plain snapshot the server renders as `prometheus_remote_storage_*`
//! with the `remote_name` and `url` labels.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of `sent_batch_duration_seconds`' buckets: the client library's default
/// buckets, then 25, 60, 120 and 300 s (`+Inf` implied).
pub const SENT_BATCH_BUCKETS: [f64; 15] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0];

/// A histogram of durations in seconds, lock-free.
#[derive(Debug, Default)]
pub struct DurationHistogram {
    /// Per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; 16],
    /// `f64` bits of the sum.
    sum: AtomicU64,
    count: AtomicU64,
}

impl DurationHistogram {
    pub fn observe(&self, seconds: f64) {
        let i = SENT_BATCH_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(15);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let _ = self.sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + seconds).to_bits())
        });
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = [0u64; 16];
        let mut n = 0;
        for (slot, b) in cumulative.iter_mut().zip(&self.buckets) {
            n += b.load(Ordering::Relaxed);
            *slot = n;
        }
        HistogramSnapshot {
            cumulative,
            sum: f64::from_bits(self.sum.load(Ordering::Relaxed)),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// A histogram's values: cumulative counts for each of [`SENT_BATCH_BUCKETS`], then `+Inf`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    pub cumulative: [u64; 16],
    pub sum: f64,
    pub count: u64,
}

/// One queue's series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueMetrics {
    /// The `remote_write` entry's `name`, or the queue's generated name.
    pub remote_name: String,
    pub url: String,
    /// Samples in send attempts (a retried request counts again), as Prometheus counts them.
    pub samples_total: u64,
    pub samples_failed_total: u64,
    pub samples_retried_total: u64,
    /// Dropped by `write_relabel_configs`.
    pub samples_dropped_total: u64,
    pub samples_pending: u64,
    /// Highest timestamp of a finished request, in whole seconds (0 before the first).
    pub queue_highest_sent_timestamp_seconds: i64,
    pub shards: u64,
    pub shards_min: u64,
    pub shards_max: u64,
    pub shard_capacity: u64,
    /// Compressed request bytes of finished requests.
    pub bytes_total: u64,
    pub sent_batch_duration_seconds: HistogramSnapshot,
}

/// Everything `prometheus_remote_storage_*` shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteWriteMetrics {
    /// Highest timestamp appended to the buffer, in whole seconds (0 before the first).
    pub highest_timestamp_in_seconds: i64,
    /// Samples appended to the buffer.
    pub samples_in_total: u64,
    pub queues: Vec<QueueMetrics>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = DurationHistogram::default();
        h.observe(0.004);
        h.observe(0.3);
        h.observe(1000.0);
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[5], 1, "0.25");
        assert_eq!(s.cumulative[6], 2, "0.5");
        assert_eq!(s.cumulative[14], 2, "300");
        assert_eq!(s.cumulative[15], 3, "+Inf");
        assert_eq!((s.sum, s.count), (1000.304, 3));
    }
}
