//! Service discovery's metrics on `/metrics` under Prometheus 2.42's names, types, help texts
//! and labels (`discovery/manager.go` with `name="scrape"`, `discovery/refresh`,
//! `discovery/file`, `discovery/dns`, `discovery/http`, `discovery/kubernetes`), for the
//! mechanisms Pharos implements; `PrometheusSDRefreshFailure` and the discovered-targets panel
//! read them.

use std::fmt::Write;

use scrape::metrics::{SdSnapshot, SummarySnapshot};

use super::{escape, family, header, summary_family};

/// Writes every service-discovery family in OpenMetrics text.
pub fn render(s: &SdSnapshot, out: &mut String) {
    let scrape = "name=\"scrape\"".to_string();
    family(
        out,
        "prometheus_sd_failed_configs",
        "gauge",
        "Current number of service discovery configurations that failed to load.",
        &[(scrape.clone(), s.failed_configs as f64)],
    );
    let discovered: Vec<(String, f64)> = s
        .discovered_targets
        .iter()
        .map(|(c, n)| (format!("config=\"{}\",name=\"scrape\"", escape(c)), *n as f64))
        .collect();
    family(
        out,
        "prometheus_sd_discovered_targets",
        "gauge",
        "Current number of discovered targets.",
        &discovered,
    );
    // Created on their first increment, as client_golang's vectors.
    let once = |v: u64| if v > 0 { vec![(scrape.clone(), v as f64)] } else { Vec::new() };
    family(
        out,
        "prometheus_sd_received_updates",
        "counter",
        "Total number of update events received from the SD providers.",
        &once(s.received_updates_total),
    );
    family(
        out,
        "prometheus_sd_updates_delayed",
        "counter",
        "Total number of update events that couldn't be sent immediately.",
        &once(s.updates_delayed_total),
    );
    family(
        out,
        "prometheus_sd_updates",
        "counter",
        "Total number of update events sent to the SD consumers.",
        &once(s.updates_total),
    );
    let mechanism = |m: &str| format!("mechanism=\"{m}\"");
    let durations: Vec<(String, &SummarySnapshot)> =
        s.refresh.iter().map(|r| (mechanism(r.mechanism), &r.duration)).collect();
    summary_family(
        out,
        "prometheus_sd_refresh_duration_seconds",
        "The duration of a refresh in seconds for the given SD mechanism.",
        &durations,
    );
    let failures: Vec<(String, f64)> =
        s.refresh.iter().map(|r| (mechanism(r.mechanism), r.failures_total as f64)).collect();
    family(
        out,
        "prometheus_sd_refresh_failures",
        "counter",
        "Number of refresh failures for the given SD mechanism.",
        &failures,
    );
    for (name, help, v) in [
        (
            "prometheus_sd_file_read_errors",
            "The number of File-SD read errors.",
            s.file_read_errors_total,
        ),
        (
            "prometheus_sd_file_watcher_errors",
            "The number of File-SD errors caused by filesystem watch failures.",
            s.file_watcher_errors_total,
        ),
        ("prometheus_sd_dns_lookups", "The number of DNS-SD lookups.", s.dns_lookups_total),
        (
            "prometheus_sd_dns_lookup_failures",
            "The number of DNS-SD lookup failures.",
            s.dns_lookup_failures_total,
        ),
        (
            "prometheus_sd_http_failures",
            "Number of HTTP service discovery refresh failures.",
            s.http_failures_total,
        ),
    ] {
        header(out, name, "counter", help);
        let _ = writeln!(out, "{name}_total {v}");
    }
    summary_family(
        out,
        "prometheus_sd_file_scan_duration_seconds",
        "The duration of the File-SD scan in seconds.",
        &[(String::new(), &s.file_scan_duration)],
    );
    let mtimes: Vec<(String, f64)> = s
        .file_mtime_seconds
        .iter()
        .map(|(f, t)| (format!("filename=\"{}\"", escape(f)), *t))
        .collect();
    family(
        out,
        "prometheus_sd_file_mtime_seconds",
        "gauge",
        "Timestamp (mtime) of files read by FileSD. Timestamp is set at read time.",
        &mtimes,
    );
    let events: Vec<(String, f64)> = s
        .kubernetes_events_total
        .iter()
        .map(|(role, event, n)| (format!("event=\"{event}\",role=\"{role}\""), *n as f64))
        .collect();
    family(
        out,
        "prometheus_sd_kubernetes_events",
        "counter",
        "The number of Kubernetes events handled.",
        &events,
    );
    let requests: Vec<(String, f64)> = s
        .kubernetes_http_requests_total
        .iter()
        .map(|(code, n)| (format!("status_code=\"{}\"", escape(code)), *n as f64))
        .collect();
    family(
        out,
        "prometheus_sd_kubernetes_http_request",
        "counter",
        "Total number of HTTP requests to the Kubernetes API by status code.",
        &requests,
    );
    let latency: Vec<(String, &SummarySnapshot)> = s
        .kubernetes_http_request_duration
        .iter()
        .map(|(e, d)| (format!("endpoint=\"{}\"", escape(e)), d))
        .collect();
    summary_family(
        out,
        "prometheus_sd_kubernetes_http_request_duration_seconds",
        "Summary of latencies for HTTP requests to the Kubernetes API by endpoint.",
        &latency,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrape::metrics::sd::RefreshSnapshot;

    #[test]
    fn renders_prometheus_families() {
        let s = SdSnapshot {
            failed_configs: 1,
            discovered_targets: vec![("node".into(), 3)],
            received_updates_total: 4,
            updates_total: 2,
            refresh: vec![RefreshSnapshot {
                mechanism: "http",
                failures_total: 2,
                duration: SummarySnapshot { quantiles: vec![(0.5, 0.25)], sum: 0.5, count: 2 },
            }],
            file_scan_duration: SummarySnapshot {
                quantiles: vec![(0.5, f64::NAN)],
                sum: 0.0,
                count: 0,
            },
            file_mtime_seconds: vec![("/sd/a.json".into(), 1.7e9)],
            dns_lookups_total: 5,
            kubernetes_events_total: vec![("pod", "add", 2)],
            kubernetes_http_requests_total: vec![("200".into(), 3)],
            kubernetes_http_request_duration: vec![(
                "/api/v1/pods".into(),
                SummarySnapshot { quantiles: vec![], sum: 0.1, count: 3 },
            )],
            ..Default::default()
        };
        let mut out = String::new();
        render(&s, &mut out);
        for want in [
            "# HELP prometheus_sd_failed_configs Current number of service discovery configurations that failed to load.\n# TYPE prometheus_sd_failed_configs gauge\nprometheus_sd_failed_configs{name=\"scrape\"} 1\n",
            "prometheus_sd_discovered_targets{config=\"node\",name=\"scrape\"} 3\n",
            "# TYPE prometheus_sd_received_updates counter\nprometheus_sd_received_updates_total{name=\"scrape\"} 4\n",
            "prometheus_sd_updates_total{name=\"scrape\"} 2\n",
            "prometheus_sd_refresh_duration_seconds{mechanism=\"http\",quantile=\"0.5\"} 0.25\nprometheus_sd_refresh_duration_seconds_sum{mechanism=\"http\"} 0.5\n",
            "prometheus_sd_refresh_failures_total{mechanism=\"http\"} 2\n",
            "# TYPE prometheus_sd_file_scan_duration_seconds summary\nprometheus_sd_file_scan_duration_seconds{quantile=\"0.5\"} NaN\nprometheus_sd_file_scan_duration_seconds_sum 0\nprometheus_sd_file_scan_duration_seconds_count 0\n",
            "prometheus_sd_file_mtime_seconds{filename=\"/sd/a.json\"} 1700000000\n",
            "prometheus_sd_dns_lookups_total 5\n",
            "prometheus_sd_http_failures_total 0\n",
            "prometheus_sd_kubernetes_events_total{event=\"add\",role=\"pod\"} 2\n",
            "prometheus_sd_kubernetes_http_request_total{status_code=\"200\"} 3\n",
            "prometheus_sd_kubernetes_http_request_duration_seconds_count{endpoint=\"/api/v1/pods\"} 3\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        assert!(!out.contains("updates_delayed"), "never delayed: no series, as client_golang");
    }
}
