//! The seed's instrumentation: `http_request_duration_seconds` and `http_requests_total`,
//! both labelled `method`, `path`, `status`, plus `process_start_time_seconds` so restarts show.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Prometheus' `DefBuckets`.
pub const DEFAULT_BUCKETS: [f64; 11] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub path: String,
    pub status: String,
}

/// The registry and the two metric families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<RequestLabels, Histogram>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "Total HTTP requests", requests.clone());
        let duration = Family::<RequestLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(DEFAULT_BUCKETS)) as fn() -> Histogram,
        );
        // Registered without the unit so the family is named exactly as in the seed.
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration in seconds",
            duration.clone(),
        );
        let start = Gauge::<i64>::default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        start.set(now);
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            start,
        );
        Metrics { registry, requests, duration }
    }

    pub fn observe(&self, labels: RequestLabels, seconds: f64) {
        self.requests.get_or_create(&labels).inc();
        self.duration.get_or_create(&labels).observe(seconds);
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_the_seed_metrics() {
        let m = Metrics::new();
        let l =
            RequestLabels { method: "GET".into(), path: "/api/users".into(), status: "200".into() };
        m.observe(l, 0.03);
        let text = m.encode();
        assert!(
            text.contains(r#"http_requests_total{method="GET",path="/api/users",status="200"} 1"#)
        );
        assert!(text.contains(
            r#"http_request_duration_seconds_bucket{le="0.05",method="GET",path="/api/users",status="200"} 1"#
        ), "{text}");
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
        assert!(text.contains("process_start_time_seconds "));
    }
}
