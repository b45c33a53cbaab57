//! The TSDB's metrics on `/metrics` under Prometheus 2.42's names, types and help texts
//! (`tsdb/db.go`, `tsdb/head.go`, `tsdb/compact.go`, `tsdb/wlog`), so the self-monitoring
//! dashboards and alerts users run against Prometheus (`PrometheusTSDBCompactionsFailing`,
//! `PrometheusTSDBReloadsFailing`, the head-series and block panels) work unchanged; plus
//! Pharos' series-limit gauges.
//!
//! Written as OpenMetrics text like the rest of `/metrics`: two of these are summaries, which
//! the registry's encoder cannot write.

use std::fmt::Write;
use std::sync::Arc;

use api::json::format_value_f as number;
use tsdb::metrics::{DbMetrics, Histogram, Summary};

use crate::SelfMetrics;

/// Adds the database's metrics to the server's `/metrics`.
pub fn register(db: &Arc<tsdb::Db>, metrics: &SelfMetrics) {
    let db = db.clone();
    metrics.add_text_section(Box::new(move |out| {
        let max_series = db.options().max_series.unwrap_or(0) as u64;
        render(&db.metrics(), max_series, db.series_limit_reached_total(), out)
    }));
}

type Counter = (&'static str, &'static str, fn(&DbMetrics) -> u64);
type Gauge = (&'static str, &'static str, fn(&DbMetrics) -> f64);

/// Counters: family name without `_total`, help, value.
const COUNTERS: &[Counter] = &[
    ("prometheus_tsdb_head_series_created", "Total number of series created in the head", |m| {
        m.head_series_created_total
    }),
    ("prometheus_tsdb_head_series_removed", "Total number of series removed in the head", |m| {
        m.head_series_removed_total
    }),
    ("prometheus_tsdb_head_truncations", "Total number of head truncations attempted.", |m| {
        m.head_truncations_total
    }),
    (
        "prometheus_tsdb_head_truncations_failed",
        "Total number of head truncations that failed.",
        |m| m.head_truncations_failed_total,
    ),
    (
        "prometheus_tsdb_compactions",
        "Total number of compactions that were executed for the partition.",
        |m| m.compactions_total,
    ),
    (
        "prometheus_tsdb_compactions_failed",
        "Total number of compactions that failed for the partition.",
        |m| m.compactions_failed_total,
    ),
    (
        "prometheus_tsdb_compactions_triggered",
        "Total number of triggered compactions for the partition.",
        |m| m.compactions_triggered_total,
    ),
    (
        "prometheus_tsdb_reloads",
        "Number of times the database reloaded block data from disk.",
        |m| m.reloads_total,
    ),
    (
        "prometheus_tsdb_reloads_failures",
        "Number of times the database failed to reloadBlocks block data from disk.",
        |m| m.reloads_failures_total,
    ),
    (
        "prometheus_tsdb_time_retentions",
        "The number of times that blocks were deleted because the maximum time limit was exceeded.",
        |m| m.time_retentions_total,
    ),
    (
        "prometheus_tsdb_size_retentions",
        "The number of times that blocks were deleted because the maximum number of bytes was exceeded.",
        |m| m.size_retentions_total,
    ),
    (
        "prometheus_tsdb_checkpoint_creations",
        "Total number of checkpoint creations attempted.",
        |m| m.checkpoint_creations_total,
    ),
    (
        "prometheus_tsdb_checkpoint_creations_failed",
        "Total number of checkpoint creations that failed.",
        |m| m.checkpoint_creations_failed_total,
    ),
    (
        "prometheus_tsdb_checkpoint_deletions",
        "Total number of checkpoint deletions attempted.",
        |m| m.checkpoint_deletions_total,
    ),
    (
        "prometheus_tsdb_checkpoint_deletions_failed",
        "Total number of checkpoint deletions that failed.",
        |_| 0,
    ),
    ("prometheus_tsdb_wal_truncations", "Total number of write log truncations attempted.", |m| {
        m.wal_truncations_total
    }),
    (
        "prometheus_tsdb_wal_truncations_failed",
        "Total number of write log truncations that failed.",
        |m| m.wal_truncations_failed_total,
    ),
    ("prometheus_tsdb_wal_corruptions", "Total number of WAL corruptions.", |m| {
        m.wal_corruptions_total
    }),
    (
        "prometheus_tsdb_head_out_of_order_samples_appended",
        "Total number of appended out of order samples.",
        |m| m.head_out_of_order_samples_appended_total,
    ),
];

/// Gauges: name, help, value.
const GAUGES: &[Gauge] = &[
    ("prometheus_tsdb_head_series", "Total number of series in the head block.", |m| {
        m.head_series as f64
    }),
    (
        "prometheus_tsdb_head_min_time",
        "Minimum time bound of the head block. The unit is decided by the library consumer.",
        |m| m.head_min_time as f64,
    ),
    ("prometheus_tsdb_head_min_time_seconds", "Minimum time bound of the head block.", |m| {
        (m.head_min_time / 1000) as f64
    }),
    (
        "prometheus_tsdb_head_max_time",
        "Maximum timestamp of the head block. The unit is decided by the library consumer.",
        |m| m.head_max_time as f64,
    ),
    ("prometheus_tsdb_head_max_time_seconds", "Maximum timestamp of the head block.", |m| {
        (m.head_max_time / 1000) as f64
    }),
    (
        "prometheus_tsdb_lowest_timestamp",
        "Lowest timestamp value stored in the database. The unit is decided by the library consumer.",
        |m| m.lowest_timestamp as f64,
    ),
    (
        "prometheus_tsdb_lowest_timestamp_seconds",
        "Lowest timestamp value stored in the database.",
        |m| (m.lowest_timestamp / 1000) as f64,
    ),
    ("prometheus_tsdb_blocks_loaded", "Number of currently loaded data blocks", |m| {
        m.blocks_loaded as f64
    }),
    (
        "prometheus_tsdb_storage_blocks_bytes",
        "The number of bytes that are currently used for local storage by all blocks.",
        |m| m.storage_blocks_bytes as f64,
    ),
    (
        "prometheus_tsdb_retention_limit_bytes",
        "Max number of bytes to be retained in the tsdb blocks, configured 0 means disabled",
        |m| m.retention_limit_bytes as f64,
    ),
    (
        "prometheus_tsdb_wal_segment_current",
        "Write log segment index that TSDB is currently writing to.",
        |m| m.wal_segment_current as f64,
    ),
    (
        "prometheus_tsdb_data_replay_duration_seconds",
        "Time taken to replay the data on disk.",
        |m| m.data_replay_duration_seconds,
    ),
];

/// Writes every family in OpenMetrics text.
pub fn render(m: &DbMetrics, max_series: u64, limit_reached: u64, out: &mut String) {
    for (name, help, value) in GAUGES {
        let _ =
            writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", number(value(m)));
    }
    for (name, help, value) in COUNTERS {
        let _ =
            writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name}_total {}", value(m));
    }
    // Families with a `type` label (float samples; Pharos stores no native histograms).
    for (name, help, float, histogram) in [
        (
            "prometheus_tsdb_head_samples_appended",
            "Total number of appended samples.",
            m.head_samples_appended_total,
            Some(0),
        ),
        (
            "prometheus_tsdb_out_of_order_samples",
            "Total number of out of order samples ingestion failed attempts due to out of order being disabled.",
            m.out_of_order_samples_total,
            Some(0),
        ),
        (
            "prometheus_tsdb_out_of_bound_samples",
            "Total number of out of bound samples ingestion failed attempts with out of order support disabled.",
            m.out_of_bound_samples_total,
            None,
        ),
        (
            "prometheus_tsdb_too_old_samples",
            "Total number of out of order samples ingestion failed attempts with out of support enabled, but sample outside of time window.",
            m.too_old_samples_total,
            None,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let _ = writeln!(out, "{name}_total{{type=\"float\"}} {float}");
        if let Some(h) = histogram {
            let _ = writeln!(out, "{name}_total{{type=\"histogram\"}} {h}");
        }
    }
    histogram(
        out,
        "prometheus_tsdb_compaction_duration_seconds",
        "Duration of compaction runs",
        &m.compaction_duration_seconds,
    );
    summary(
        out,
        "prometheus_tsdb_wal_truncate_duration_seconds",
        "Duration of WAL truncation.",
        m.wal_truncate_duration_seconds,
    );
    summary(
        out,
        "prometheus_tsdb_wal_fsync_duration_seconds",
        "Duration of write log fsync.",
        m.wal_fsync_duration_seconds,
    );
    let _ = writeln!(
        out,
        "# HELP pharos_tsdb_head_max_series The head's series limit (--storage.tsdb.max-series; 0 is unlimited).\n\
         # TYPE pharos_tsdb_head_max_series gauge\npharos_tsdb_head_max_series {max_series}\n\
         # HELP pharos_tsdb_head_series_limit_reached Appends refused because they would have created a series beyond --storage.tsdb.max-series.\n\
         # TYPE pharos_tsdb_head_series_limit_reached counter\npharos_tsdb_head_series_limit_reached_total {limit_reached}"
    );
}

fn histogram(out: &mut String, name: &str, help: &str, h: &Histogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (le, n) in h.cumulative() {
        let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {n}", number(le));
    }
    let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", number(h.sum), h.count);
}

fn summary(out: &mut String, name: &str, help: &str, s: Summary) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
    let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", number(s.sum), s.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_names_with_empty_head_bounds() {
        let m = DbMetrics {
            head_series: 3,
            head_series_created_total: 5,
            head_min_time: i64::MAX,
            head_max_time: i64::MIN,
            lowest_timestamp: 1_700_000_000_123,
            compactions_total: 2,
            head_samples_appended_total: 9,
            ..Default::default()
        };
        let mut out = String::new();
        render(&m, 0, 4, &mut out);
        for want in [
            "# TYPE prometheus_tsdb_head_series gauge\nprometheus_tsdb_head_series 3\n",
            "# TYPE prometheus_tsdb_head_series_created counter\nprometheus_tsdb_head_series_created_total 5\n",
            "prometheus_tsdb_head_min_time 9223372036854776000\n",
            "prometheus_tsdb_head_min_time_seconds 9223372036854776\n",
            "prometheus_tsdb_head_max_time -9223372036854776000\n",
            "prometheus_tsdb_lowest_timestamp 1700000000123\n",
            "prometheus_tsdb_lowest_timestamp_seconds 1700000000\n",
            "prometheus_tsdb_compactions_total 2\n",
            "prometheus_tsdb_head_samples_appended_total{type=\"float\"} 9\nprometheus_tsdb_head_samples_appended_total{type=\"histogram\"} 0\n",
            "prometheus_tsdb_too_old_samples_total{type=\"float\"} 0\n# HELP",
            "prometheus_tsdb_compaction_duration_seconds_bucket{le=\"+Inf\"} 0\n",
            "prometheus_tsdb_wal_fsync_duration_seconds_count 0\n",
            "pharos_tsdb_head_series_limit_reached_total 4\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
    }
}
