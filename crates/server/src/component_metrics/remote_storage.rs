//! Remote write's metrics on `/metrics` under Prometheus 2.42's names, types, help texts and
//! `remote_name`/`url` labels (`storage/remote/queue_manager.go`, `write.go`), so
//! `PrometheusRemoteWriteBehind`, `PrometheusRemoteStorageFailures`,
//! `PrometheusRemoteWriteDesiredShards` and the remote-write dashboard work unchanged.
//! `shards_desired` is the shard count the queue will use next (Pharos has no separate
//! estimate).

use std::fmt::Write;

use api::json::format_value_f as number;
use remote::metrics::SENT_BATCH_BUCKETS;
use remote::{QueueMetrics, RemoteWriteMetrics};

use super::escape;

/// A per-queue family: name, help, type, value.
type PerQueue = (&'static str, &'static str, &'static str, fn(&QueueMetrics) -> f64);

const PREFIX: &str = "prometheus_remote_storage_";

const PER_QUEUE: &[PerQueue] = &[
    (
        "bytes",
        "The total number of bytes of data (not metadata) sent by the queue after compression. Note that when exemplars over remote write is enabled the exemplars included in a remote write request count towards this metric.",
        "counter",
        |q| q.bytes_total as f64,
    ),
    (
        "queue_highest_sent_timestamp_seconds",
        "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
        "gauge",
        |q| q.queue_highest_sent_timestamp_seconds as f64,
    ),
    (
        "samples_dropped",
        "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling or unintentionally because of an unknown reference ID.",
        "counter",
        |q| q.samples_dropped_total as f64,
    ),
    (
        "samples_failed",
        "Total number of samples which failed on send to remote storage, non-recoverable errors.",
        "counter",
        |q| q.samples_failed_total as f64,
    ),
    (
        "samples_pending",
        "The number of samples pending in the queues shards to be sent to the remote storage.",
        "gauge",
        |q| q.samples_pending as f64,
    ),
    (
        "samples_retried",
        "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
        "counter",
        |q| q.samples_retried_total as f64,
    ),
    ("samples", "Total number of samples sent to remote storage.", "counter", |q| {
        q.samples_total as f64
    }),
    (
        "shard_capacity",
        "The capacity of each shard of the queue used for parallel sending to the remote storage.",
        "gauge",
        |q| q.shard_capacity as f64,
    ),
    (
        "shards",
        "The number of shards used for parallel sending to the remote storage.",
        "gauge",
        |q| q.shards as f64,
    ),
    (
        "shards_desired",
        "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.",
        "gauge",
        |q| q.shards as f64,
    ),
    (
        "shards_max",
        "The maximum number of shards that the queue is allowed to run.",
        "gauge",
        |q| q.shards_max as f64,
    ),
    (
        "shards_min",
        "The minimum number of shards that the queue is allowed to run.",
        "gauge",
        |q| q.shards_min as f64,
    ),
];

fn labels(q: &QueueMetrics) -> String {
    format!("remote_name=\"{}\",url=\"{}\"", escape(&q.remote_name), escape(&q.url))
}

/// Writes the families in OpenMetrics text.
pub fn render(m: &RemoteWriteMetrics, out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP {PREFIX}highest_timestamp_in_seconds Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.\n\
         # TYPE {PREFIX}highest_timestamp_in_seconds gauge\n{PREFIX}highest_timestamp_in_seconds {}",
        m.highest_timestamp_in_seconds
    );
    let _ = writeln!(
        out,
        "# HELP {PREFIX}samples_in Samples in to remote storage, compare to samples out for queue managers.\n\
         # TYPE {PREFIX}samples_in counter\n{PREFIX}samples_in_total {}",
        m.samples_in_total
    );
    for (name, help, kind, value) in PER_QUEUE {
        let _ = writeln!(out, "# HELP {PREFIX}{name} {help}\n# TYPE {PREFIX}{name} {kind}");
        let suffix = if *kind == "counter" { "_total" } else { "" };
        for q in &m.queues {
            let _ = writeln!(out, "{PREFIX}{name}{suffix}{{{}}} {}", labels(q), number(value(q)));
        }
    }
    let name = format!("{PREFIX}sent_batch_duration_seconds");
    let _ = writeln!(
        out,
        "# HELP {name} Duration of send calls to the remote storage.\n# TYPE {name} histogram"
    );
    for q in &m.queues {
        let (l, h) = (labels(q), &q.sent_batch_duration_seconds);
        for (b, n) in SENT_BATCH_BUCKETS.iter().zip(h.cumulative) {
            let _ = writeln!(out, "{name}_bucket{{{l},le=\"{}\"}} {n}", number(*b));
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{l},le=\"+Inf\"}} {}\n{name}_sum{{{l}}} {}\n{name}_count{{{l}}} {}",
            h.cumulative[15],
            number(h.sum),
            h.count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_families_with_queue_labels() {
        let mut q = QueueMetrics {
            remote_name: "vm".into(),
            url: "http://127.0.0.1:8428/api/v1/write".into(),
            samples_total: 20,
            samples_retried_total: 10,
            queue_highest_sent_timestamp_seconds: 1_700_000_009,
            shards: 2,
            shards_max: 50,
            bytes_total: 123,
            ..Default::default()
        };
        q.sent_batch_duration_seconds.cumulative = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        q.sent_batch_duration_seconds.sum = 0.25;
        q.sent_batch_duration_seconds.count = 2;
        let m = RemoteWriteMetrics {
            highest_timestamp_in_seconds: 1_700_000_010,
            samples_in_total: 10,
            queues: vec![q],
        };
        let mut out = String::new();
        render(&m, &mut out);
        let l = "remote_name=\"vm\",url=\"http://127.0.0.1:8428/api/v1/write\"";
        for want in [
            "# TYPE prometheus_remote_storage_highest_timestamp_in_seconds gauge\nprometheus_remote_storage_highest_timestamp_in_seconds 1700000010\n".to_string(),
            "prometheus_remote_storage_samples_in_total 10\n".to_string(),
            format!("# HELP prometheus_remote_storage_samples Total number of samples sent to remote storage.\n# TYPE prometheus_remote_storage_samples counter\nprometheus_remote_storage_samples_total{{{l}}} 20\n"),
            format!("prometheus_remote_storage_samples_retried_total{{{l}}} 10\n"),
            format!("prometheus_remote_storage_samples_failed_total{{{l}}} 0\n"),
            format!("# TYPE prometheus_remote_storage_samples_pending gauge\nprometheus_remote_storage_samples_pending{{{l}}} 0\n"),
            format!("prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{l}}} 1700000009\n"),
            format!("prometheus_remote_storage_shards{{{l}}} 2\n"),
            format!("prometheus_remote_storage_shards_max{{{l}}} 50\n"),
            format!("prometheus_remote_storage_bytes_total{{{l}}} 123\n"),
            format!("# TYPE prometheus_remote_storage_sent_batch_duration_seconds histogram\nprometheus_remote_storage_sent_batch_duration_seconds_bucket{{{l},le=\"0.005\"}} 1\n"),
            format!("prometheus_remote_storage_sent_batch_duration_seconds_bucket{{{l},le=\"0.25\"}} 2\n"),
            format!("prometheus_remote_storage_sent_batch_duration_seconds_bucket{{{l},le=\"300\"}} 2\n"),
            format!("prometheus_remote_storage_sent_batch_duration_seconds_bucket{{{l},le=\"+Inf\"}} 2\nprometheus_remote_storage_sent_batch_duration_seconds_sum{{{l}}} 0.25\nprometheus_remote_storage_sent_batch_duration_seconds_count{{{l}}} 2\n"),
        ] {
            assert!(out.contains(&want), "missing {want:?} in\n{out}");
        }
    }
}
