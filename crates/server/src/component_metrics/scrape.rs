//! Scraping's metrics on `/metrics` under Prometheus 2.42's names, types, help texts and labels
//! (`scrape/scrape.go`, `scrape/manager.go`), so the self-monitoring dashboards and alerts
//! (`PrometheusTargetLimitHit`, `PrometheusLabelLimitHit`, `PrometheusScrapeSampleLimitHit`,
//! `PrometheusScrapeBodySizeLimitHit`, `PrometheusTargetSyncFailure`,
//! `PrometheusDuplicateTimestamps`, `PrometheusOutOfOrderTimestamps`, the interval and sync
//! panels) work unchanged. Families with labels appear once they have a series, as client_golang
//! writes a vector without children: nothing.

use std::fmt::Write;

use scrape::metrics::{ScrapeSnapshot, SummarySnapshot};

use super::{escape, family, header, summary_family};

/// Counters without labels: family name (without `_total`), help, value.
type Counter = (&'static str, &'static str, fn(&ScrapeSnapshot) -> u64);

const COUNTERS: &[Counter] = &[
    ("prometheus_target_scrape_pools", "Total number of scrape pool creation attempts.", |s| {
        s.pools_total
    }),
    (
        "prometheus_target_scrape_pools_failed",
        "Total number of scrape pool creations that failed.",
        |s| s.pools_failed_total,
    ),
    ("prometheus_target_scrape_pool_reloads", "Total number of scrape pool reloads.", |s| {
        s.pool_reloads_total
    }),
    (
        "prometheus_target_scrape_pool_reloads_failed",
        "Total number of failed scrape pool reloads.",
        |s| s.pool_reloads_failed_total,
    ),
    (
        "prometheus_target_scrape_pool_exceeded_target_limit",
        "Total number of times scrape pools hit the target limit, during sync or config reload.",
        |s| s.exceeded_target_limit_total,
    ),
    (
        "prometheus_target_scrape_pool_exceeded_label_limits",
        "Total number of times scrape pools hit the label limits, during sync or config reload.",
        |s| s.exceeded_label_limits_total,
    ),
    (
        "prometheus_target_scrapes_exceeded_body_size_limit",
        "Total number of scrapes that hit the body size limit",
        |s| s.exceeded_body_size_limit_total,
    ),
    (
        "prometheus_target_scrapes_exceeded_sample_limit",
        "Total number of scrapes that hit the sample limit and were rejected.",
        |s| s.exceeded_sample_limit_total,
    ),
    (
        "prometheus_target_scrapes_sample_duplicate_timestamp",
        "Total number of samples rejected due to duplicate timestamps but different values.",
        |s| s.sample_duplicate_timestamp_total,
    ),
    (
        "prometheus_target_scrapes_sample_out_of_order",
        "Total number of samples rejected due to not being out of the expected order.",
        |s| s.sample_out_of_order_total,
    ),
    (
        "prometheus_target_scrapes_sample_out_of_bounds",
        "Total number of samples rejected due to timestamp falling outside of the time bounds.",
        |s| s.sample_out_of_bounds_total,
    ),
    (
        "prometheus_target_scrapes_cache_flush_forced",
        "How many times a scrape cache was flushed due to getting big while scrapes are failing.",
        |s| s.cache_flush_forced_total,
    ),
    (
        "prometheus_target_scrapes_exemplar_out_of_order",
        "Total number of exemplar rejected due to not being out of the expected order.",
        |s| s.exemplar_out_of_order_total,
    ),
];

/// Writes every scrape family in OpenMetrics text.
pub fn render(s: &ScrapeSnapshot, out: &mut String) {
    let by =
        |label: &str, list: &'_ [(String, SummarySnapshot)]| -> Vec<(String, SummarySnapshot)> {
            list.iter().map(|(v, s)| (format!("{label}=\"{}\"", escape(v)), s.clone())).collect()
        };
    for (name, help, list) in [
        (
            "prometheus_target_interval_length_seconds",
            "Actual intervals between scrapes.",
            &s.interval_length,
        ),
        (
            "prometheus_target_reload_length_seconds",
            "Actual interval to reload the scrape pool with a given configuration.",
            &s.reload_length,
        ),
    ] {
        let series = by("interval", list);
        let series: Vec<(String, &SummarySnapshot)> =
            series.iter().map(|(l, s)| (l.clone(), s)).collect();
        summary_family(out, name, help, &series);
    }
    for (name, help, value) in COUNTERS {
        header(out, name, "counter", help);
        let _ = writeln!(out, "{name}_total {}", value(s));
    }
    let job = |j: &scrape::metrics::JobSnapshot| format!("scrape_job=\"{}\"", escape(&j.job));
    let per_job = |f: fn(&scrape::metrics::JobSnapshot) -> Option<f64>| -> Vec<(String, f64)> {
        s.jobs.iter().filter_map(|j| f(j).map(|v| (job(j), v))).collect()
    };
    family(
        out,
        "prometheus_target_scrape_pool_target_limit",
        "gauge",
        "Maximum number of targets allowed in this scrape pool.",
        &per_job(|j| j.target_limit.map(|l| l as f64)),
    );
    family(
        out,
        "prometheus_target_scrape_pool_targets",
        "gauge",
        "Current number of targets in this scrape pool.",
        &per_job(|j| Some(j.targets as f64)),
    );
    let sync_length: Vec<(String, &SummarySnapshot)> =
        s.jobs.iter().map(|j| (job(j), &j.sync_length)).collect();
    summary_family(
        out,
        "prometheus_target_sync_length_seconds",
        "Actual interval to sync the scrape pool.",
        &sync_length,
    );
    family(
        out,
        "prometheus_target_scrape_pool_sync",
        "counter",
        "Total number of syncs that were executed on a scrape pool.",
        &per_job(|j| Some(j.sync_total as f64)),
    );
    family(
        out,
        "prometheus_target_sync_failed",
        "counter",
        "Total number of target sync failures.",
        &per_job(|j| Some(j.sync_failed_total as f64)),
    );
    family(
        out,
        "prometheus_target_metadata_cache_entries",
        "gauge",
        "Total number of metric metadata entries in the cache",
        &per_job(|j| Some(j.metadata_entries as f64)),
    );
    family(
        out,
        "prometheus_target_metadata_cache_bytes",
        "gauge",
        "The number of bytes that are currently used for storing metric metadata in the cache",
        &per_job(|j| Some(j.metadata_bytes as f64)),
    );
    super::discovery::render(&s.sd, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrape::metrics::JobSnapshot;

    fn summary(count: u64) -> SummarySnapshot {
        SummarySnapshot { quantiles: vec![(0.01, 14.9), (0.99, f64::NAN)], sum: 30.0, count }
    }

    #[test]
    fn renders_prometheus_families() {
        let s = ScrapeSnapshot {
            interval_length: vec![("15s".into(), summary(2))],
            pools_total: 2,
            exceeded_sample_limit_total: 3,
            jobs: vec![JobSnapshot {
                job: "node".into(),
                targets: 4,
                target_limit: None,
                sync_total: 5,
                sync_failed_total: 1,
                sync_length: summary(5),
                metadata_entries: 7,
                metadata_bytes: 70,
            }],
            ..Default::default()
        };
        let mut out = String::new();
        render(&s, &mut out);
        for want in [
            "# HELP prometheus_target_interval_length_seconds Actual intervals between scrapes.\n# TYPE prometheus_target_interval_length_seconds summary\nprometheus_target_interval_length_seconds{interval=\"15s\",quantile=\"0.01\"} 14.9\nprometheus_target_interval_length_seconds{interval=\"15s\",quantile=\"0.99\"} NaN\nprometheus_target_interval_length_seconds_sum{interval=\"15s\"} 30\nprometheus_target_interval_length_seconds_count{interval=\"15s\"} 2\n",
            "# HELP prometheus_target_scrape_pools Total number of scrape pool creation attempts.\n# TYPE prometheus_target_scrape_pools counter\nprometheus_target_scrape_pools_total 2\n",
            "# TYPE prometheus_target_scrapes_exceeded_sample_limit counter\nprometheus_target_scrapes_exceeded_sample_limit_total 3\n",
            "# HELP prometheus_target_scrapes_exceeded_body_size_limit Total number of scrapes that hit the body size limit\n",
            "# TYPE prometheus_target_scrape_pool_targets gauge\nprometheus_target_scrape_pool_targets{scrape_job=\"node\"} 4\n",
            "prometheus_target_sync_length_seconds_count{scrape_job=\"node\"} 5\n",
            "prometheus_target_scrape_pool_sync_total{scrape_job=\"node\"} 5\n",
            "prometheus_target_sync_failed_total{scrape_job=\"node\"} 1\n",
            "prometheus_target_metadata_cache_entries{scrape_job=\"node\"} 7\n",
            "prometheus_target_metadata_cache_bytes{scrape_job=\"node\"} 70\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        assert!(!out.contains("reload_length"), "a vector without series is not written");
        assert!(!out.contains("prometheus_target_scrape_pool_target_limit"), "set by reloads only");
    }
}
