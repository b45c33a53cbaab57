//! The notifier's metrics on `/metrics` under Prometheus 2.42's names, types, help texts and
//! `alertmanager` label (`notifier/notifier.go`), so `PrometheusNotificationQueueRunningFull`,
//! `PrometheusErrorSendingAlertsToSomeAlertmanagers` and `PrometheusNotConnectedToAlertmanagers`
//! work unchanged.

use std::fmt::Write;

use api::json::format_value_f as number;
use notifier::{AlertmanagerSeries, NotifierMetrics};

use super::escape;

/// A per-Alertmanager counter: name between `prometheus_notifications_` and `_total`, help, value.
type PerAm = (&'static str, &'static str, fn(&AlertmanagerSeries) -> u64);

/// Writes the families in OpenMetrics text.
pub fn render(m: &NotifierMetrics, out: &mut String) {
    let name = "prometheus_notifications_latency_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Latency quantiles for sending alert notifications.\n# TYPE {name} summary"
    );
    for (url, a) in &m.alertmanagers {
        let url = escape(url);
        for (q, v) in &a.latency_quantiles {
            let _ = writeln!(
                out,
                "{name}{{alertmanager=\"{url}\",quantile=\"{}\"}} {}",
                number(*q),
                number(*v)
            );
        }
        let l = format!("{{alertmanager=\"{url}\"}}");
        let _ = writeln!(out, "{name}_sum{l} {}", number(a.latency_seconds_sum));
        let _ = writeln!(out, "{name}_count{l} {}", a.latency_seconds_count);
    }
    let per_am: [PerAm; 2] = [
        ("errors", "Total number of errors sending alert notifications.", |a| a.errors_total),
        ("sent", "Total number of alerts sent.", |a| a.sent_total),
    ];
    for (short, help, value) in per_am {
        let name = format!("prometheus_notifications_{short}");
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (url, a) in &m.alertmanagers {
            let _ = writeln!(out, "{name}_total{{alertmanager=\"{}\"}} {}", escape(url), value(a));
        }
    }
    let _ = writeln!(
        out,
        "# HELP prometheus_notifications_dropped Total number of alerts dropped due to errors when sending to Alertmanager.\n\
         # TYPE prometheus_notifications_dropped counter\nprometheus_notifications_dropped_total {}",
        m.dropped_total
    );
    let gauges = [
        (
            "prometheus_notifications_queue_length",
            "The number of alert notifications in the queue.",
            m.queue_length,
        ),
        (
            "prometheus_notifications_queue_capacity",
            "The capacity of the alert notifications queue.",
            m.queue_capacity,
        ),
        (
            "prometheus_notifications_alertmanagers_discovered",
            "The number of alertmanagers discovered and active.",
            m.alertmanagers_discovered,
        ),
    ];
    for (name, help, v) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_families() {
        let mut m = NotifierMetrics {
            queue_length: 2,
            queue_capacity: 10_000,
            alertmanagers_discovered: 1,
            dropped_total: 7,
            ..Default::default()
        };
        m.alertmanagers.insert(
            "http://127.0.0.1:9093/api/v2/alerts".into(),
            notifier::AlertmanagerSeries {
                sent_total: 5,
                errors_total: 1,
                latency_quantiles: vec![(0.5, 0.25), (0.99, f64::NAN)],
                latency_seconds_sum: 0.5,
                latency_seconds_count: 2,
            },
        );
        let mut out = String::new();
        render(&m, &mut out);
        let l = "{alertmanager=\"http://127.0.0.1:9093/api/v2/alerts\"}";
        for want in [
            "# HELP prometheus_notifications_latency_seconds Latency quantiles for sending alert notifications.\n# TYPE prometheus_notifications_latency_seconds summary\n".to_string(),
            "prometheus_notifications_latency_seconds{alertmanager=\"http://127.0.0.1:9093/api/v2/alerts\",quantile=\"0.5\"} 0.25\nprometheus_notifications_latency_seconds{alertmanager=\"http://127.0.0.1:9093/api/v2/alerts\",quantile=\"0.99\"} NaN\n".to_string(),
            format!("prometheus_notifications_latency_seconds_sum{l} 0.5\n"),
            format!("prometheus_notifications_latency_seconds_count{l} 2\n"),
            format!("# TYPE prometheus_notifications_errors counter\nprometheus_notifications_errors_total{l} 1\n"),
            format!("# HELP prometheus_notifications_sent Total number of alerts sent.\n# TYPE prometheus_notifications_sent counter\nprometheus_notifications_sent_total{l} 5\n"),
            "# TYPE prometheus_notifications_dropped counter\nprometheus_notifications_dropped_total 7\n".to_string(),
            "# HELP prometheus_notifications_queue_length The number of alert notifications in the queue.\n# TYPE prometheus_notifications_queue_length gauge\nprometheus_notifications_queue_length 2\n".to_string(),
            "prometheus_notifications_queue_capacity 10000\n".to_string(),
            "# HELP prometheus_notifications_alertmanagers_discovered The number of alertmanagers discovered and active.\n# TYPE prometheus_notifications_alertmanagers_discovered gauge\nprometheus_notifications_alertmanagers_discovered 1\n".to_string(),
        ] {
            assert!(out.contains(&want), "missing {want:?} in\n{out}");
        }
    }
}
