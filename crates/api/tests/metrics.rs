//! `prometheus_http_*` and `prometheus_engine_*` values through the router: requests are
//! counted by Prometheus' handler name and status code, queries by queue and evaluation time;
//! paths matching no route are not counted.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use api::{ApiState, router};
use axum::body::Body;
use axum::http::Request;
use storage::MemStorage;
use tower::ServiceExt;

async fn get(state: &ApiState, uri: &str) -> u16 {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    router(state.clone()).oneshot(req).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn requests_are_counted_by_handler_and_code_and_queries_timed() {
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let mut state = ApiState::new(Arc::new(MemStorage::new()), engine);
    state.set_query_max_concurrency(7);
    assert_eq!(get(&state, "/api/v1/query?query=1%2B1").await, 200);
    assert_eq!(get(&state, "/api/v1/query?query=1%2B1").await, 200);
    assert_eq!(get(&state, "/api/v1/query?query=sum(").await, 400);
    assert_eq!(get(&state, "/api/v1/label/job/values").await, 200);
    assert_eq!(get(&state, "/-/healthy").await, 200);
    assert_eq!(get(&state, "/federate?match[]=up").await, 200);
    assert_eq!(get(&state, "/no/such/path").await, 404);

    let m = state.http_metrics.snapshot();
    let handler = |name: &str| m.handlers.iter().find(|h| h.handler == name).unwrap();
    let names: Vec<&str> = m.handlers.iter().map(|h| h.handler.as_str()).collect();
    assert_eq!(
        names,
        vec!["/-/healthy", "/api/v1/label/:name/values", "/api/v1/query", "/federate"]
    );
    let q = handler("/api/v1/query");
    assert_eq!(q.requests, vec![(200, 2), (400, 1)]);
    assert_eq!((q.duration_count, q.duration_buckets[9]), (3, 3));
    assert_eq!(handler("/api/v1/label/:name/values").requests, vec![(200, 1)]);
    assert_eq!(m.queries, 0, "no query in flight");
    assert_eq!(m.queries_concurrent_max, 7);
    let slice = |name: &str| m.query_duration.iter().find(|s| s.slice == name).unwrap().count;
    // The parse error fails inside the engine: queued and evaluated like the others.
    assert_eq!((slice("queue_time"), slice("inner_eval")), (3, 3));
}

#[tokio::test]
async fn response_sizes_are_the_bytes_sent() {
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let state = ApiState::new(Arc::new(MemStorage::new()), engine);
    // A long string literal echoed in the result: a body worth compressing.
    let uri = format!("/api/v1/query?query=%22{}%22", "x".repeat(2000));
    let mut sent = Vec::new();
    for gzip in [false, true] {
        let mut req = Request::builder().uri(&uri);
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        let resp = router(state.clone()).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.headers().contains_key("content-encoding"), gzip);
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        sent.push(body.len() as u64);
    }
    assert!(sent[1] < sent[0] / 4, "{sent:?}");
    let m = state.http_metrics.snapshot();
    let h = m.handlers.iter().find(|h| h.handler == "/api/v1/query").unwrap();
    assert_eq!((h.size_count, h.size_sum), (2, sent[0] + sent[1]));
    // Buckets are cumulative over 100, 1000, ... bytes.
    let under = |bound: u64| sent.iter().filter(|n| **n <= bound).count() as u64;
    assert_eq!(h.size_buckets[..4], [under(100), under(1000), under(10_000), under(100_000)]);
}
