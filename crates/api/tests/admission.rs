//! Query admission (`--query.max-concurrency`): at most N queries evaluate at once, the rest
//! wait for a slot up to their timeout and then fail with Prometheus' queue timeout; other
//! endpoints keep answering while every slot is taken. Storage is gated so the test controls
//! exactly when queries finish (no timing assumptions).

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use api::{ApiState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use storage::{MemStorage, Querier, Queryable, StorageError};
use tower::ServiceExt;

/// A queryable whose `querier` blocks until the gate opens, counting callers inside.
#[derive(Default)]
struct Gated {
    open: Mutex<bool>,
    cv: Condvar,
    inside: AtomicUsize,
    max_inside: AtomicUsize,
    entered: AtomicUsize,
    inner: MemStorage,
}

impl Gated {
    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

impl Queryable for Gated {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_inside.fetch_max(now, Ordering::SeqCst);
        self.entered.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        drop(open);
        self.inside.fetch_sub(1, Ordering::SeqCst);
        self.inner.querier(mint, maxt)
    }
}

async fn get(st: &ApiState, uri: &str) -> (StatusCode, String) {
    let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queries_beyond_the_limit_wait_or_time_out_in_the_queue() {
    let gated = Arc::new(Gated::default());
    let mut st = ApiState::new(gated.clone(), Arc::new(promql::Engine::default()));
    st.set_query_max_concurrency(2);

    // Eight slow queries: two evaluate, six wait for a slot.
    let slow: Vec<_> = (0..8)
        .map(|i| {
            let st = st.clone();
            let uri = format!("/api/v1/query?query=up%7Bi%3D%22{i}%22%7D&time=100&timeout=5m");
            tokio::spawn(async move { get(&st, &uri).await })
        })
        .collect();
    wait_until("two queries in storage", || gated.inside.load(Ordering::SeqCst) == 2).await;

    // Every slot is taken: the server still answers everything that is not a query...
    assert_eq!(get(&st, "/-/healthy").await.0, StatusCode::OK);
    assert_eq!(get(&st, "/api/v1/status/buildinfo").await.0, StatusCode::OK);
    assert_eq!(get(&st, "/api/v1/format_query?query=up").await.0, StatusCode::OK);
    // ...and a query with a short timeout fails cleanly in the queue, as Prometheus words it.
    let (status, body) = get(&st, "/api/v1/query?query=1%2B1&timeout=200ms").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body,
        r#"{"status":"error","errorType":"timeout","error":"query timed out in query queue"}"#
    );
    // A waiting request whose client goes away gives its place up.
    let abandoned = {
        let st = st.clone();
        tokio::spawn(async move { get(&st, "/api/v1/query?query=up&timeout=5m").await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    abandoned.abort();
    // Cancellation takes effect at the task's next poll: wait for it, or the abandoned query
    // could still take a slot once the gate opens.
    assert!(abandoned.await.unwrap_err().is_cancelled());
    assert_eq!(gated.entered.load(Ordering::SeqCst), 2);

    gated.release();
    for q in slow {
        let (status, body) = q.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with(r#"{"status":"success""#), "{body}");
    }
    assert_eq!(gated.max_inside.load(Ordering::SeqCst), 2, "the limit was exceeded");
    assert_eq!(gated.entered.load(Ordering::SeqCst), 8);
    // All permits came back: the full width is available again.
    assert_eq!(st.query_slots.available_permits(), 2);
    let (status, body) = get(&st, "/api/v1/query?query=up&time=100&stats=all").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""execQueueTime":"#), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_timeout_bounds_queueing_without_a_timeout_parameter() {
    let gated = Arc::new(Gated::default());
    let mut st = ApiState::new(gated.clone(), Arc::new(promql::Engine::default()));
    st.set_query_max_concurrency(1);
    st.query_timeout = Duration::from_millis(300);
    let first = {
        let st = st.clone();
        tokio::spawn(async move { get(&st, "/api/v1/query?query=up&time=100").await })
    };
    wait_until("one query in storage", || gated.inside.load(Ordering::SeqCst) == 1).await;
    // A larger `timeout` parameter does not extend --query.timeout.
    let (status, body) =
        get(&st, "/api/v1/query_range?query=up&start=0&end=100&step=10&timeout=1h").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("query timed out in query queue"), "{body}");
    gated.release();
    // The first query spent its whole budget waiting in storage: it times out in evaluation
    // or succeeds, but never hangs or fails otherwise.
    let (status, body) = first.await.unwrap();
    assert!(status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
