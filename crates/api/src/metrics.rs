//! The HTTP API's and the query engine's counters as Prometheus 2.42 keeps them
//! (`web/web.go`, `promql/engine.go`): requests by handler and status code, request latency
//! and response size by handler, queries executing or waiting, and query timings by slice. A
//! plain snapshot for the server's `/metrics`.
//!
//! The handler label is the route as Prometheus names it (`/api/v1/query`,
//! `/api/v1/label/:name/values`, `/federate`, `/-/ready`); requests matching no route are not
//! counted, as in Prometheus.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of `prometheus_http_request_duration_seconds`' buckets (`+Inf` implied).
pub const REQUEST_DURATION_BUCKETS: [f64; 9] = [0.1, 0.2, 0.4, 1.0, 3.0, 8.0, 20.0, 60.0, 120.0];

/// Upper bounds of `prometheus_http_response_size_bytes`' buckets (`+Inf` implied):
/// client_golang's `ExponentialBuckets(100, 10, 8)`.
pub const RESPONSE_SIZE_BUCKETS: [f64; 8] = [1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// A histogram of seconds over fixed buckets, lock-free.
#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; 10],
    sum: AtomicU64,
    count: AtomicU64,
}

fn add_f64(a: &AtomicU64, v: f64) {
    let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
        Some((f64::from_bits(bits) + v).to_bits())
    });
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        let i = REQUEST_DURATION_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(9);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum, seconds);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Response sizes in bytes over [`RESPONSE_SIZE_BUCKETS`], lock-free.
#[derive(Debug, Default)]
struct SizeHistogram {
    /// Per bucket (not cumulative); the last is `+Inf`.
    buckets: [AtomicU64; 9],
    sum: AtomicU64,
    count: AtomicU64,
}

impl SizeHistogram {
    fn observe(&self, bytes: u64) {
        let i = RESPONSE_SIZE_BUCKETS.iter().position(|b| bytes as f64 <= *b).unwrap_or(8);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(bytes, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct HandlerCounters {
    codes: Mutex<BTreeMap<u16, u64>>,
    duration: Histogram,
    size: SizeHistogram,
}

/// One handler's series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandlerSeries {
    pub handler: String,
    /// Requests by status code.
    pub requests: Vec<(u16, u64)>,
    /// Cumulative counts for each of [`REQUEST_DURATION_BUCKETS`], then `+Inf`.
    pub duration_buckets: [u64; 10],
    pub duration_sum: f64,
    pub duration_count: u64,
    /// Cumulative counts for each of [`RESPONSE_SIZE_BUCKETS`], then `+Inf`.
    pub size_buckets: [u64; 9],
    pub size_sum: u64,
    pub size_count: u64,
}

/// Quantiles of `prometheus_engine_query_duration_seconds` (engine.go's objectives).
pub const QUERY_DURATION_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// How long an observation counts towards the quantiles (client_golang's `DefMaxAge`).
const SUMMARY_MAX_AGE: Duration = Duration::from_secs(600);
/// At most this many recent observations are kept for the quantiles.
const SUMMARY_MAX_OBSERVATIONS: usize = 4096;

/// A `prometheus_engine_query_duration_seconds` slice.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceSeries {
    pub slice: &'static str,
    /// (quantile, value) for [`QUERY_DURATION_QUANTILES`]; NaN without recent observations.
    pub quantiles: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: u64,
}

/// A summary: sum and count of every observation, quantiles over the recent ones.
#[derive(Debug, Default)]
struct Summary(Mutex<SummaryState>);

#[derive(Debug, Default)]
struct SummaryState {
    window: VecDeque<(Instant, f64)>,
    sum: f64,
    count: u64,
}

impl SummaryState {
    fn expire(&mut self, now: Instant) {
        while self.window.front().is_some_and(|(t, _)| now.duration_since(*t) > SUMMARY_MAX_AGE) {
            self.window.pop_front();
        }
        while self.window.len() > SUMMARY_MAX_OBSERVATIONS {
            self.window.pop_front();
        }
    }
}

impl Summary {
    fn observe_at(&self, now: Instant, v: f64) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.sum += v;
        s.count += 1;
        s.window.push_back((now, v));
        s.expire(now);
    }

    fn snapshot_at(&self, now: Instant, slice: &'static str) -> SliceSeries {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.expire(now);
        let mut values: Vec<f64> = s.window.iter().map(|(_, v)| *v).collect();
        values.sort_by(f64::total_cmp);
        let quantiles =
            QUERY_DURATION_QUANTILES.iter().map(|&q| (q, rank_quantile(&values, q))).collect();
        SliceSeries { slice, quantiles, sum: s.sum, count: s.count }
    }
}

/// The observation of rank `ceil(q * n)` in `sorted`, NaN if empty.
fn rank_quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Everything the HTTP and engine families show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiMetrics {
    pub handlers: Vec<HandlerSeries>,
    /// `prometheus_engine_queries`.
    pub queries: i64,
    /// `prometheus_engine_queries_concurrent_max`.
    pub queries_concurrent_max: u64,
    /// `inner_eval`, `prepare_time`, `queue_time`, `result_sort`.
    pub query_duration: Vec<SliceSeries>,
}

/// The counters; shared by the router's middleware and the query handlers.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    handlers: RwLock<BTreeMap<String, Arc<HandlerCounters>>>,
    queries: AtomicI64,
    concurrent_max: AtomicU64,
    queue_time: Summary,
    inner_eval: Summary,
    /// Part of `inner_eval` here; kept for the series Prometheus shows.
    prepare_time: Summary,
    result_sort: Summary,
}

/// Prometheus' name of an axum route: `{name}` becomes `:name`, `{*path}` becomes `*path`.
pub fn handler_name(route: &str) -> String {
    route.replace("{*", "*").replace('{', ":").replace('}', "")
}

/// Counts a query from when it is received until it ends (`prometheus_engine_queries`).
pub(crate) struct QueryInFlight(Arc<HttpMetrics>);

impl Drop for QueryInFlight {
    fn drop(&mut self) {
        self.0.queries.fetch_sub(1, Ordering::Relaxed);
    }
}

impl HttpMetrics {
    fn handler(&self, name: &str) -> Arc<HandlerCounters> {
        if let Some(h) = self.handlers.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return h.clone();
        }
        let mut w = self.handlers.write().unwrap_or_else(|e| e.into_inner());
        w.entry(name.to_string()).or_default().clone()
    }

    /// Records one request to `handler` answered with `code` after `took`.
    pub fn observe_request(&self, handler: &str, code: u16, took: Duration) {
        self.observe_request_counters(&self.handler(handler), code, took);
    }

    fn observe_request_counters(&self, h: &HandlerCounters, code: u16, took: Duration) {
        *h.codes.lock().unwrap_or_else(|e| e.into_inner()).entry(code).or_default() += 1;
        h.duration.observe(took.as_secs_f64());
    }

    /// Records one request to `handler` that took `took` for `resp`: its status code now, its
    /// body's size once known (when it has been sent, for a streamed body).
    pub fn observe_response(&self, handler: &str, took: Duration, resp: Response) -> Response {
        let h = self.handler(handler);
        self.observe_request_counters(&h, resp.status().as_u16(), took);
        crate::response_size::observe(resp, move |bytes| h.size.observe(bytes))
    }

    /// `--query.max-concurrency`.
    pub fn set_concurrent_max(&self, n: usize) {
        self.concurrent_max.store(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn query_started(self: &Arc<Self>) -> QueryInFlight {
        self.queries.fetch_add(1, Ordering::Relaxed);
        QueryInFlight(self.clone())
    }

    pub(crate) fn observe_queue_time(&self, d: Duration) {
        self.queue_time.observe_at(Instant::now(), d.as_secs_f64());
    }

    pub(crate) fn observe_eval(&self, d: Duration) {
        self.inner_eval.observe_at(Instant::now(), d.as_secs_f64());
    }

    /// The values of every family now.
    pub fn snapshot(&self) -> ApiMetrics {
        self.snapshot_at(Instant::now())
    }

    fn snapshot_at(&self, now: Instant) -> ApiMetrics {
        let handlers = self.handlers.read().unwrap_or_else(|e| e.into_inner());
        let handlers = handlers
            .iter()
            .map(|(name, h)| {
                let codes = h.codes.lock().unwrap_or_else(|e| e.into_inner());
                let mut buckets = [0u64; 10];
                let mut n = 0;
                for (slot, b) in buckets.iter_mut().zip(&h.duration.buckets) {
                    n += b.load(Ordering::Relaxed);
                    *slot = n;
                }
                let mut size_buckets = [0u64; 9];
                let mut n = 0;
                for (slot, b) in size_buckets.iter_mut().zip(&h.size.buckets) {
                    n += b.load(Ordering::Relaxed);
                    *slot = n;
                }
                HandlerSeries {
                    handler: name.clone(),
                    requests: codes.iter().map(|(c, n)| (*c, *n)).collect(),
                    duration_buckets: buckets,
                    duration_sum: f64::from_bits(h.duration.sum.load(Ordering::Relaxed)),
                    duration_count: h.duration.count.load(Ordering::Relaxed),
                    size_buckets,
                    size_sum: h.size.sum.load(Ordering::Relaxed),
                    size_count: h.size.count.load(Ordering::Relaxed),
                }
            })
            .collect();
        ApiMetrics {
            handlers,
            queries: self.queries.load(Ordering::Relaxed),
            queries_concurrent_max: self.concurrent_max.load(Ordering::Relaxed),
            query_duration: vec![
                self.inner_eval.snapshot_at(now, "inner_eval"),
                self.prepare_time.snapshot_at(now, "prepare_time"),
                self.queue_time.snapshot_at(now, "queue_time"),
                self.result_sort.snapshot_at(now, "result_sort"),
            ],
        }
    }
}

/// Middleware counting every request to a matched route (the server's `/metrics` too).
pub async fn track(
    State(m): State<Arc<HttpMetrics>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let Some(route) = matched.map(|p| handler_name(p.as_str())) else {
        return next.run(req).await;
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    m.observe_response(&route, start.elapsed(), resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_routes_as_prometheus_and_counts_by_code() {
        assert_eq!(handler_name("/api/v1/label/{name}/values"), "/api/v1/label/:name/values");
        let m = HttpMetrics::default();
        m.observe_request("/api/v1/query", 200, Duration::from_millis(150));
        m.observe_request("/api/v1/query", 400, Duration::from_secs(200));
        m.observe_request("/api/v1/query", 200, Duration::from_millis(50));
        let s = m.snapshot();
        let h = &s.handlers[0];
        assert_eq!(h.requests, vec![(200, 2), (400, 1)]);
        assert_eq!(h.duration_buckets, [1, 2, 2, 2, 2, 2, 2, 2, 2, 3]);
        assert_eq!(h.duration_count, 3);
        assert!((h.duration_sum - 200.2).abs() < 1e-9);
        assert_eq!(h.size_count, 0, "no response seen");
    }

    #[test]
    fn response_sizes_by_handler_in_exponential_buckets() {
        let m = HttpMetrics::default();
        for body in ["", &"x".repeat(100), &"x".repeat(101), &"x".repeat(20_000)] {
            let resp = Response::new(axum::body::Body::from(body.to_string()));
            let _ = m.observe_response("/metrics", Duration::from_millis(1), resp);
        }
        let s = m.snapshot();
        let h = &s.handlers[0];
        assert_eq!((h.handler.as_str(), h.requests.as_slice()), ("/metrics", &[(200, 4)][..]));
        assert_eq!(h.size_buckets, [2, 3, 3, 4, 4, 4, 4, 4, 4]);
        assert_eq!((h.size_sum, h.size_count), (20_201, 4));
    }

    #[test]
    fn query_timing_quantiles_cover_the_last_ten_minutes() {
        let m = HttpMetrics::default();
        let t0 = Instant::now();
        for i in 1..=10 {
            m.inner_eval.observe_at(t0, f64::from(i));
        }
        let later = t0 + Duration::from_secs(300);
        m.inner_eval.observe_at(later, 100.0);
        let s = m.snapshot_at(later);
        let eval = &s.query_duration[0];
        assert_eq!(eval.slice, "inner_eval");
        assert_eq!(eval.quantiles, vec![(0.5, 6.0), (0.9, 10.0), (0.99, 100.0)]);
        assert_eq!((eval.sum, eval.count), (155.0, 11));
        let s = m.snapshot_at(t0 + Duration::from_secs(700));
        assert_eq!(s.query_duration[0].quantiles[0], (0.5, 100.0), "older ones expired");
        assert_eq!(s.query_duration[0].count, 11, "count and sum keep everything");
        assert!(s.query_duration[1].quantiles[0].1.is_nan(), "no prepare_time observations");
    }
}
