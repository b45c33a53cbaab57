//! The HTTP API's and the query engine's metrics on `/metrics` under Prometheus 2.42's names,
//! types, help texts and labels (`prometheus_http_requests_total{code,handler}`,
//! `prometheus_http_request_duration_seconds{handler}`,
//! `prometheus_http_response_size_bytes{handler}`,
//! `prometheus_engine_query_duration_seconds{slice}`, `prometheus_engine_queries`,
//! `prometheus_engine_queries_concurrent_max`). `prepare_time` and `result_sort` are part of
//! `inner_eval` here and stay empty.

use std::fmt::Write;

use api::json::format_value_f as number;
use api::metrics::{ApiMetrics, REQUEST_DURATION_BUCKETS};

use super::escape;

/// The `le` labels of `prometheus_http_response_size_bytes` (`api::metrics::RESPONSE_SIZE_BUCKETS`)
/// as client_golang writes them (Go's `%g`: exponents from 1e+06).
const RESPONSE_SIZE_LE: [&str; 8] =
    ["100", "1000", "10000", "100000", "1e+06", "1e+07", "1e+08", "1e+09"];

/// Writes the families in OpenMetrics text.
pub fn render(m: &ApiMetrics, out: &mut String) {
    let name = "prometheus_http_request_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Histogram of latencies for HTTP requests.\n# TYPE {name} histogram"
    );
    for h in &m.handlers {
        let l = format!("handler=\"{}\"", escape(&h.handler));
        for (b, n) in REQUEST_DURATION_BUCKETS.iter().zip(h.duration_buckets) {
            let _ = writeln!(out, "{name}_bucket{{{l},le=\"{}\"}} {n}", number(*b));
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{l},le=\"+Inf\"}} {}\n{name}_sum{{{l}}} {}\n{name}_count{{{l}}} {}",
            h.duration_buckets[9],
            number(h.duration_sum),
            h.duration_count
        );
    }
    let name = "prometheus_http_response_size_bytes";
    let _ = writeln!(
        out,
        "# HELP {name} Histogram of response size for HTTP requests.\n# TYPE {name} histogram"
    );
    for h in &m.handlers {
        let l = format!("handler=\"{}\"", escape(&h.handler));
        for (le, n) in RESPONSE_SIZE_LE.iter().zip(h.size_buckets) {
            let _ = writeln!(out, "{name}_bucket{{{l},le=\"{le}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{l},le=\"+Inf\"}} {}\n{name}_sum{{{l}}} {}\n{name}_count{{{l}}} {}",
            h.size_buckets[8], h.size_sum, h.size_count
        );
    }
    let name = "prometheus_http_requests";
    let _ = writeln!(out, "# HELP {name} Counter of HTTP requests.\n# TYPE {name} counter");
    for h in &m.handlers {
        for (code, n) in &h.requests {
            let _ = writeln!(
                out,
                "{name}_total{{code=\"{code}\",handler=\"{}\"}} {n}",
                escape(&h.handler)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP prometheus_engine_queries The current number of queries being executed or waiting.\n\
         # TYPE prometheus_engine_queries gauge\nprometheus_engine_queries {}\n\
         # HELP prometheus_engine_queries_concurrent_max The max number of concurrent queries.\n\
         # TYPE prometheus_engine_queries_concurrent_max gauge\nprometheus_engine_queries_concurrent_max {}",
        m.queries, m.queries_concurrent_max
    );
    let name = "prometheus_engine_query_duration_seconds";
    let _ = writeln!(out, "# HELP {name} Query timings\n# TYPE {name} summary");
    for s in &m.query_duration {
        let slice = s.slice;
        for (q, v) in &s.quantiles {
            let _ = writeln!(
                out,
                "{name}{{slice=\"{slice}\",quantile=\"{}\"}} {}",
                number(*q),
                number(*v)
            );
        }
        let _ = writeln!(
            out,
            "{name}_sum{{slice=\"{slice}\"}} {}\n{name}_count{{slice=\"{slice}\"}} {}",
            number(s.sum),
            s.count
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::metrics::{HandlerSeries, SliceSeries};

    #[test]
    fn size_bucket_labels_are_the_bounds() {
        for (le, b) in RESPONSE_SIZE_LE.iter().zip(api::metrics::RESPONSE_SIZE_BUCKETS) {
            assert_eq!(le.parse::<f64>().ok(), Some(b));
        }
    }

    #[test]
    fn renders_prometheus_families() {
        let m = ApiMetrics {
            handlers: vec![HandlerSeries {
                handler: "/api/v1/label/:name/values".into(),
                requests: vec![(200, 3), (400, 1)],
                duration_buckets: [3, 4, 4, 4, 4, 4, 4, 4, 4, 4],
                duration_sum: 0.5,
                duration_count: 4,
                size_buckets: [1, 1, 3, 4, 4, 4, 4, 4, 4],
                size_sum: 25_000,
                size_count: 4,
            }],
            queries: 1,
            queries_concurrent_max: 20,
            query_duration: vec![
                SliceSeries {
                    slice: "inner_eval",
                    quantiles: vec![(0.5, 0.1), (0.99, f64::NAN)],
                    sum: 0.25,
                    count: 2,
                },
                SliceSeries { slice: "queue_time", quantiles: vec![], sum: 0.001, count: 2 },
            ],
        };
        let mut out = String::new();
        render(&m, &mut out);
        let l = "handler=\"/api/v1/label/:name/values\"";
        for want in [
            format!("# HELP prometheus_http_request_duration_seconds Histogram of latencies for HTTP requests.\n# TYPE prometheus_http_request_duration_seconds histogram\nprometheus_http_request_duration_seconds_bucket{{{l},le=\"0.1\"}} 3\n"),
            format!("prometheus_http_request_duration_seconds_bucket{{{l},le=\"120\"}} 4\nprometheus_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} 4\nprometheus_http_request_duration_seconds_sum{{{l}}} 0.5\nprometheus_http_request_duration_seconds_count{{{l}}} 4\n"),
            format!("# HELP prometheus_http_response_size_bytes Histogram of response size for HTTP requests.\n# TYPE prometheus_http_response_size_bytes histogram\nprometheus_http_response_size_bytes_bucket{{{l},le=\"100\"}} 1\n"),
            format!("prometheus_http_response_size_bytes_bucket{{{l},le=\"1e+09\"}} 4\nprometheus_http_response_size_bytes_bucket{{{l},le=\"+Inf\"}} 4\nprometheus_http_response_size_bytes_sum{{{l}}} 25000\nprometheus_http_response_size_bytes_count{{{l}}} 4\n"),
            format!("# HELP prometheus_http_requests Counter of HTTP requests.\n# TYPE prometheus_http_requests counter\nprometheus_http_requests_total{{code=\"200\",{l}}} 3\nprometheus_http_requests_total{{code=\"400\",{l}}} 1\n"),
            "# TYPE prometheus_engine_queries gauge\nprometheus_engine_queries 1\n".to_string(),
            "prometheus_engine_queries_concurrent_max 20\n".to_string(),
            "# HELP prometheus_engine_query_duration_seconds Query timings\n# TYPE prometheus_engine_query_duration_seconds summary\nprometheus_engine_query_duration_seconds{slice=\"inner_eval\",quantile=\"0.5\"} 0.1\nprometheus_engine_query_duration_seconds{slice=\"inner_eval\",quantile=\"0.99\"} NaN\nprometheus_engine_query_duration_seconds_sum{slice=\"inner_eval\"} 0.25\nprometheus_engine_query_duration_seconds_count{slice=\"inner_eval\"} 2\n".to_string(),
        ] {
            assert!(out.contains(&want), "missing {want:?} in\n{out}");
        }
    }
}
