//! `prometheus_remote_storage_*` values through the real path: samples committed through
//! `BufferAppendable`, shipped by the `WriteManager`'s queues to one endpoint that fails once
//! with 500 (retried) and one that rejects with 400 (failed for good).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::post;
use model::Labels;
use remote::{BufferAppendable, DiskBuffer, DiskBufferOptions, RemoteWriteMetrics, WriteManager};
use storage::Appendable;

/// An endpoint answering `first` to its first request and `rest` after.
async fn endpoint(first: u16, rest: u16) -> String {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/write",
        post(move || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let status = if n == 0 { first } else { rest };
            async move { StatusCode::from_u16(status).unwrap() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/write")
}

async fn wait(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn queue<'a>(m: &'a RemoteWriteMetrics, name: &str) -> &'a remote::QueueMetrics {
    m.queues.iter().find(|q| q.remote_name == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_sent_retried_failed_bytes_and_timestamps_per_queue() {
    let (flaky, rejecting) = (endpoint(500, 204).await, endpoint(400, 400).await);
    let down = endpoint(503, 503).await;
    let dir = tempfile::tempdir().unwrap();
    let buffer = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    let manager = WriteManager::new(buffer.clone());
    let qc = "queue_config: {batch_send_deadline: 50ms, min_backoff: 5ms, max_backoff: 20ms, max_shards: 4}";
    let yaml = format!(
        "remote_write:\n- url: {flaky}\n  name: flaky\n  {qc}\n- url: {rejecting}\n  name: rejecting\n  {qc}\n- url: {down}\n  name: down\n  {qc}\n"
    );
    let cfg = config::parse(&yaml, "p.yml").unwrap();
    manager.apply(&cfg.remote_write, &Labels::empty()).await.unwrap();
    let m = manager.metrics();
    assert_eq!(m.queues.len(), 3);
    assert_eq!(queue(&m, "flaky").url, flaky);
    assert_eq!(queue(&m, "flaky").shards_max, 4);
    assert_eq!((m.highest_timestamp_in_seconds, m.samples_in_total), (0, 0));

    let mut app = BufferAppendable(buffer.clone()).appender();
    for i in 0..10 {
        let l = Labels::new([("__name__", "up"), ("i", &i.to_string())]);
        app.append(0, &l, 1_700_000_000_000 + i * 1000 + 500, 1.0).unwrap();
    }
    app.commit().unwrap();
    let m = manager.metrics();
    assert_eq!((m.highest_timestamp_in_seconds, m.samples_in_total), (1_700_000_009, 10));

    wait(|| {
        let m = manager.metrics();
        queue(&m, "flaky").bytes_total > 0 && queue(&m, "rejecting").bytes_total > 0
    })
    .await;
    let m = manager.metrics();
    let f = queue(&m, "flaky");
    assert_eq!(f.samples_total, 20, "the retried request counts twice");
    assert_eq!((f.samples_retried_total, f.samples_failed_total), (10, 0));
    assert_eq!(f.sent_batch_duration_seconds.count, 2);
    assert_eq!(f.queue_highest_sent_timestamp_seconds, 1_700_000_009);
    assert_eq!(f.samples_pending, 0);
    let r = queue(&m, "rejecting");
    assert_eq!((r.samples_total, r.samples_retried_total, r.samples_failed_total), (10, 0, 10));
    assert_eq!(r.sent_batch_duration_seconds.count, 1);
    assert_eq!(r.queue_highest_sent_timestamp_seconds, 1_700_000_009, "set for failed sends too");
    wait(|| queue(&manager.metrics(), "down").samples_retried_total >= 20).await;
    let m = manager.metrics();
    let d = queue(&m, "down");
    assert_eq!(d.samples_pending, 10, "held while the endpoint is down");
    assert_eq!(d.queue_highest_sent_timestamp_seconds, 0, "nothing finished");
    assert_eq!(d.bytes_total, 0);
    manager.stop().await;
}
