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
