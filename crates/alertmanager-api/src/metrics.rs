//! Alertmanager 0.25's own metrics, as text for `/metrics`: the same family names, types,
//! help texts and labels (`alertmanager_alerts`, `alertmanager_alerts_received_total`,
//! `alertmanager_notifications_total`, `alertmanager_silences`, `alertmanager_config_*`, ...),
//! so `AlertmanagerFailedReload`, `AlertmanagerFailedToSendAlerts` and
//! `AlertmanagerConfigInconsistent` and the Alertmanager dashboards work unchanged.
//!
//! Alerts pushed in-process or through either API version count as `version="v2"`.

use std::fmt::Write;

use crate::AlertmanagerService;
use alertmanager::metrics::CoreMetrics;
use receivers::IntegrationSeries;
use receivers::metrics::LATENCY_BUCKETS;

/// Everything the families show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertmanagerMetrics {
    pub core: CoreMetrics,
    pub integrations: Vec<IntegrationSeries>,
    pub config_last_reload_successful: bool,
    pub config_last_reload_success_timestamp_seconds: f64,
    /// Alertmanager's `md5HashAsMetricValue` of the loaded file's bytes.
    pub config_hash: f64,
}

/// Alertmanager's config hash: the first 6 bytes of the MD5 of the file, little endian,
/// as a float (exact: 48 bits fit the mantissa).
pub fn config_hash(text: &str) -> f64 {
    let sum = md5::compute(text.as_bytes()).0;
    let mut bytes = [0u8; 8];
    bytes[..6].copy_from_slice(&sum[..6]);
    u64::from_le_bytes(bytes) as f64
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)` as the Prometheus text format writes values
/// (integers up to 1e21 without exponent are what matters here).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// Writes a family's HELP and TYPE lines. OpenMetrics names a counter family without its
/// `_total` suffix; the 0.0.4 text format (Alertmanager's own) names it with.
fn family(out: &mut String, om: bool, name: &str, help: &str, kind: &str) {
    let name = if om && kind == "counter" { name.trim_end_matches("_total") } else { name };
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes the families for an OpenMetrics exposition (the server's `/metrics`); `version`
/// labels `alertmanager_build_info`.
pub fn render(m: &AlertmanagerMetrics, version: &str, out: &mut String) {
    render_format(m, version, true, out);
}

/// Writes the families in the 0.0.4 text format, as Alertmanager serves them.
pub fn render_text(m: &AlertmanagerMetrics, version: &str, out: &mut String) {
    render_format(m, version, false, out);
}

fn render_format(m: &AlertmanagerMetrics, version: &str, om: bool, out: &mut String) {
    let c = &m.core;
    family(out, om, "alertmanager_alerts", "How many alerts by state.", "gauge");
    for (state, v) in [
        ("active", c.alerts_active),
        ("suppressed", c.alerts_suppressed),
        ("unprocessed", c.alerts_unprocessed),
    ] {
        let _ = writeln!(out, "alertmanager_alerts{{state=\"{state}\"}} {v}");
    }
    let name = "alertmanager_alerts_invalid_total";
    family(out, om, name, "The total number of received alerts that were invalid.", "counter");
    let _ = writeln!(
        out,
        "{name}{{version=\"v1\"}} 0\n{name}{{version=\"v2\"}} {}",
        c.received.invalid
    );
    let name = "alertmanager_alerts_received_total";
    family(out, om, name, "The total number of received alerts.", "counter");
    for (status, v) in [("firing", c.received.firing), ("resolved", c.received.resolved)] {
        let _ = writeln!(out, "{name}{{status=\"{status}\",version=\"v1\"}} 0");
        let _ = writeln!(out, "{name}{{status=\"{status}\",version=\"v2\"}} {v}");
    }
    let name = "alertmanager_build_info";
    family(
        out,
        om,
        name,
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which alertmanager was built, and the goos and goarch for the build.",
        "gauge",
    );
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let _ = writeln!(
        out,
        "{name}{{branch=\"\",goarch=\"{arch}\",goos=\"{}\",goversion=\"rust\",revision=\"\",version=\"{}\"}} 1",
        std::env::consts::OS,
        version.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let gauges = [
        (
            "alertmanager_cluster_enabled",
            "Indicates whether the clustering is enabled or not.",
            0.0,
        ),
        (
            "alertmanager_config_hash",
            "Hash of the currently loaded alertmanager configuration.",
            m.config_hash,
        ),
        (
            "alertmanager_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            m.config_last_reload_success_timestamp_seconds,
        ),
        (
            "alertmanager_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            if m.config_last_reload_successful { 1.0 } else { 0.0 },
        ),
        (
            "alertmanager_dispatcher_aggregation_groups",
            "Number of active aggregation groups",
            c.aggregation_groups as f64,
        ),
        ("alertmanager_integrations", "Number of configured integrations.", c.integrations as f64),
    ];
    for (name, help, v) in gauges {
        family(out, om, name, help, "gauge");
        let _ = writeln!(out, "{name} {}", number(v));
    }
    render_notifications(&m.integrations, om, out);
    family(out, om, "alertmanager_receivers", "Number of configured receivers.", "gauge");
    let _ = writeln!(out, "alertmanager_receivers {}", c.receivers);
    family(out, om, "alertmanager_silences", "How many silences by state.", "gauge");
    for (state, v) in [
        ("active", c.silences_active),
        ("expired", c.silences_expired),
        ("pending", c.silences_pending),
    ] {
        let _ = writeln!(out, "alertmanager_silences{{state=\"{state}\"}} {v}");
    }
}

type Counter = (&'static str, &'static str, fn(&IntegrationSeries) -> u64);

fn render_notifications(series: &[IntegrationSeries], om: bool, out: &mut String) {
    let name = "alertmanager_notification_latency_seconds";
    family(out, om, name, "The latency of notifications in seconds.", "histogram");
    for s in series {
        let i = s.integration;
        for (b, n) in LATENCY_BUCKETS.iter().zip(s.latency_buckets) {
            let _ = writeln!(out, "{name}_bucket{{integration=\"{i}\",le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{integration=\"{i}\",le=\"+Inf\"}} {}\n{name}_sum{{integration=\"{i}\"}} {}\n{name}_count{{integration=\"{i}\"}} {}",
            s.latency_buckets[5],
            number(s.latency_sum),
            s.latency_count
        );
    }
    let counters: [Counter; 4] = [
        (
            "alertmanager_notification_requests_failed_total",
            "The total number of failed notification requests.",
            |s| s.requests_failed_total,
        ),
        (
            "alertmanager_notification_requests_total",
            "The total number of attempted notification requests.",
            |s| s.requests_total,
        ),
        (
            "alertmanager_notifications_failed_total",
            "The total number of failed notifications.",
            |s| s.notifications_failed_total,
        ),
        ("alertmanager_notifications_total", "The total number of attempted notifications.", |s| {
            s.notifications_total
        }),
    ];
    for (name, help, value) in counters {
        family(out, om, name, help, "counter");
        for s in series {
            let _ = writeln!(out, "{name}{{integration=\"{}\"}} {}", s.integration, value(s));
        }
    }
}

/// `GET /metrics` of `pharos alertmanager` (the text format, version 0.0.4).
pub fn router(svc: AlertmanagerService) -> axum::Router {
    let handler = move || {
        let svc = svc.clone();
        async move {
            let mut out = String::new();
            render_text(&svc.metrics(), env!("CARGO_PKG_VERSION"), &mut out);
            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out)
        }
    };
    axum::Router::new().route("/metrics", axum::routing::get(handler))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hash_is_alertmanagers() {
        // What prometheus-alertmanager 0.25 showed for this file.
        let text = "route:\n  receiver: hook\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: http://127.0.0.1:9/\n";
        assert_eq!(number(config_hash(text)), "31958134866509");
    }

    #[test]
    fn renders_alertmanager_families() {
        let mut m = AlertmanagerMetrics {
            config_last_reload_successful: true,
            config_last_reload_success_timestamp_seconds: 1_795_669_974.5,
            config_hash: 31_958_134_866_509.0,
            ..Default::default()
        };
        m.core.alerts_active = 2;
        m.core.received.firing = 5;
        m.core.received.invalid = 1;
        m.core.silences_pending = 3;
        m.integrations.push(IntegrationSeries {
            integration: "webhook",
            notifications_total: 4,
            notifications_failed_total: 1,
            requests_total: 6,
            requests_failed_total: 3,
            latency_buckets: [5, 5, 6, 6, 6, 6],
            latency_sum: 7.25,
            latency_count: 6,
        });
        let mut out = String::new();
        render_text(&m, "1.2.3", &mut out);
        for want in [
            "# HELP alertmanager_alerts How many alerts by state.\n# TYPE alertmanager_alerts gauge\nalertmanager_alerts{state=\"active\"} 2\nalertmanager_alerts{state=\"suppressed\"} 0\nalertmanager_alerts{state=\"unprocessed\"} 0\n",
            "alertmanager_alerts_invalid_total{version=\"v2\"} 1\n",
            "# TYPE alertmanager_alerts_received_total counter\nalertmanager_alerts_received_total{status=\"firing\",version=\"v1\"} 0\nalertmanager_alerts_received_total{status=\"firing\",version=\"v2\"} 5\n",
            "version=\"1.2.3\"} 1\n",
            "alertmanager_cluster_enabled 0\n",
            "alertmanager_config_hash 31958134866509\n",
            "alertmanager_config_last_reload_success_timestamp_seconds 1795669974.5\n",
            "alertmanager_config_last_reload_successful 1\n",
            "# TYPE alertmanager_notification_latency_seconds histogram\nalertmanager_notification_latency_seconds_bucket{integration=\"webhook\",le=\"1\"} 5\n",
            "alertmanager_notification_latency_seconds_bucket{integration=\"webhook\",le=\"10\"} 6\n",
            "alertmanager_notification_latency_seconds_bucket{integration=\"webhook\",le=\"+Inf\"} 6\nalertmanager_notification_latency_seconds_sum{integration=\"webhook\"} 7.25\nalertmanager_notification_latency_seconds_count{integration=\"webhook\"} 6\n",
            "# HELP alertmanager_notifications_failed_total The total number of failed notifications.\n# TYPE alertmanager_notifications_failed_total counter\nalertmanager_notifications_failed_total{integration=\"webhook\"} 1\n",
            "alertmanager_notifications_total{integration=\"webhook\"} 4\n",
            "alertmanager_notification_requests_total{integration=\"webhook\"} 6\n",
            "alertmanager_notification_requests_failed_total{integration=\"webhook\"} 3\n",
            "alertmanager_silences{state=\"pending\"} 3\n",
        ] {
            assert!(out.contains(want), "missing {want:?} in\n{out}");
        }
        let mut om = String::new();
        render(&m, "1.2.3", &mut om);
        for want in [
            "# TYPE alertmanager_alerts_received counter\nalertmanager_alerts_received_total{status=\"firing\",version=\"v1\"} 0\n",
            "# HELP alertmanager_notifications The total number of attempted notifications.\n# TYPE alertmanager_notifications counter\nalertmanager_notifications_total{integration=\"webhook\"} 4\n",
            "# TYPE alertmanager_alerts gauge\n",
        ] {
            assert!(om.contains(want), "missing {want:?} in\n{om}");
        }
    }
}
