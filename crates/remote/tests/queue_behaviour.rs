//! The write queue against a scripted in-process receiver: retries with backoff on 5xx and 429
//! until accepted, drops batches rejected with other 4xx, batches by `max_samples_per_send`,
//! adds shards while there is a backlog, and feeds from `BufferAppendable` commits (agent mode).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use model::{Labels, Sample};
use parking_lot::Mutex;
use remote::{
    BufferAppendable, DiskBuffer, DiskBufferOptions, QueueOptions, WriteOptions, WriteQueue,
};
use storage::Appendable;

#[derive(Default)]
struct Receiver {
    /// Statuses to answer, in order; 204 once exhausted.
    script: Vec<u16>,
    calls: usize,
    /// (name, t) of every sample accepted.
    accepted: Vec<(String, i64)>,
    batch_sizes: Vec<usize>,
}

async fn serve(rx: Arc<Mutex<Receiver>>) -> String {
    let app = axum::Router::new().route(
        "/write",
        post(move |body: Bytes| {
            let rx = rx.clone();
            async move {
                let req = remote::codec::decode_write_request(&body).unwrap();
                let mut r = rx.lock();
                let status = r.script.get(r.calls).copied().unwrap_or(204);
                r.calls += 1;
                let n: usize = req.timeseries.iter().map(|t| t.samples.len()).sum();
                r.batch_sizes.push(n);
                let bad = req.timeseries.iter().any(|t| t.labels.iter().any(|l| l.value == "bad"));
                if bad {
                    return (StatusCode::BAD_REQUEST, [("Retry-After", "0")], "bad series");
                }
                if status == 204 {
                    for ts in &req.timeseries {
                        let name =
                            ts.labels.iter().find(|l| l.name == "__name__").unwrap().value.clone();
                        for s in &ts.samples {
                            r.accepted.push((name.clone(), s.timestamp));
                        }
                    }
                }
                (StatusCode::from_u16(status).unwrap(), [("Retry-After", "0")], "")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/write")
}

fn opts(url: &str) -> WriteOptions {
    let mut o = WriteOptions::new("test", url);
    o.queue = QueueOptions {
        capacity: 400,
        max_shards: 8,
        max_samples_per_send: 50,
        batch_send_deadline: Duration::from_millis(50),
        min_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
        poll_interval: Duration::from_millis(10),
        ..QueueOptions::default()
    };
    o
}

fn samples(name: &str, n: i64) -> Vec<(Labels, Sample)> {
    (0..n)
        .map(|i| {
            let l = Labels::new([("__name__", name), ("series", &(i % 20).to_string())]);
            (l, Sample::new(i, i as f64))
        })
        .collect()
}

async fn wait(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_and_429_then_delivers_everything_in_order() {
    let rx =
        Arc::new(Mutex::new(Receiver { script: vec![503, 500, 429, 502], ..Default::default() }));
    let url = serve(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    let q = WriteQueue::start(opts(&url), Arc::new(buf.reader("q").unwrap())).unwrap();
    let stats = q.stats();
    buf.write_batch(&samples("m", 40)).unwrap();
    wait(|| stats.samples_sent.load(Ordering::Relaxed) == 40).await;
    {
        let r = rx.lock();
        assert!(r.calls >= 5, "four failures then success: {}", r.calls);
        assert_eq!(r.accepted.len(), 40);
        // Per series, samples arrive in time order.
        for s in 0..20 {
            let ts: Vec<i64> =
                r.accepted.iter().filter(|(_, t)| t % 20 == s).map(|(_, t)| *t).collect();
            assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
        }
        assert!(stats.samples_retried.load(Ordering::Relaxed) >= 40);
        assert_eq!(stats.samples_failed.load(Ordering::Relaxed), 0);
    }
    q.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_drops_the_batch_without_retry() {
    let rx = Arc::new(Mutex::new(Receiver::default()));
    let url = serve(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    let mut o = opts(&url);
    o.queue.max_shards = 1;
    let q = WriteQueue::start(o, Arc::new(buf.reader("q").unwrap())).unwrap();
    let stats = q.stats();
    let bad: Vec<(Labels, Sample)> =
        vec![(Labels::new([("__name__", "x"), ("v", "bad")]), Sample::new(1, 1.0))];
    buf.write_batch(&bad).unwrap();
    wait(|| stats.samples_failed.load(Ordering::Relaxed) == 1).await;
    buf.write_batch(&samples("ok", 10)).unwrap();
    wait(|| stats.samples_sent.load(Ordering::Relaxed) == 10).await;
    assert_eq!(rx.lock().calls, 2, "the 400 was not retried");
    assert_eq!(stats.samples_retried.load(Ordering::Relaxed), 0);
    q.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_adds_shards_and_batches_are_bounded() {
    let rx = Arc::new(Mutex::new(Receiver::default()));
    let url = serve(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    // A backlog before the queue starts (the reader is registered first).
    let reader = Arc::new(buf.reader("q").unwrap());
    for i in 0..20 {
        let batch: Vec<(Labels, Sample)> = samples("b", 100)
            .into_iter()
            .map(|(l, s)| (l, Sample::new(s.t + i * 100, s.v)))
            .collect();
        buf.write_batch(&batch).unwrap();
    }
    let q = WriteQueue::start(opts(&url), reader).unwrap();
    let stats = q.stats();
    let mut max_shards = 0;
    wait(|| {
        max_shards = max_shards.max(stats.shards.load(Ordering::Relaxed));
        stats.samples_sent.load(Ordering::Relaxed) == 2000
    })
    .await;
    assert!(max_shards > 1, "shards grew with the backlog: {max_shards}");
    assert!(rx.lock().batch_sizes.iter().all(|&n| n <= 50));
    // Caught up: shards shrink back to the minimum.
    wait(|| stats.shards.load(Ordering::Relaxed) == 1).await;
    q.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_mode_appends_flow_to_the_remote_and_survive_a_restart() {
    let rx = Arc::new(Mutex::new(Receiver { script: vec![503; 1000], ..Default::default() }));
    let url = serve(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    {
        // The receiver is down for this whole run: nothing is acknowledged.
        let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
        let q = WriteQueue::start(opts(&url), Arc::new(buf.reader("q").unwrap())).unwrap();
        let storage = BufferAppendable(buf.clone());
        let mut app = storage.appender();
        for (l, s) in samples("agent", 30) {
            app.append(0, &l, s.t, s.v).unwrap();
        }
        app.commit().unwrap();
        let stats = q.stats();
        wait(|| stats.samples_retried.load(Ordering::Relaxed) > 0).await;
        q.stop().await;
    }
    rx.lock().script.clear();
    // "Restart": reopen the buffer; the unacknowledged samples are sent now.
    let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    let q = WriteQueue::start(opts(&url), Arc::new(buf.reader("q").unwrap())).unwrap();
    let stats = q.stats();
    wait(|| stats.samples_sent.load(Ordering::Relaxed) == 30).await;
    assert_eq!(rx.lock().accepted.len(), 30);
    q.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manager_applies_and_reloads_remote_write_configs() {
    let rx = Arc::new(Mutex::new(Receiver::default()));
    let url = serve(rx.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let buf = Arc::new(DiskBuffer::open(dir.path(), DiskBufferOptions::default()).unwrap());
    let mgr = remote::WriteManager::new(buf.clone());
    let yaml = format!(
        "url: {url}\nname: one\nqueue_config:\n  batch_send_deadline: 20ms\n  min_backoff: 5ms\n\
         write_relabel_configs:\n  - source_labels: [__name__]\n    regex: secret.*\n    action: drop\n"
    );
    let cfg: config::RemoteWriteConfig = serde_saphyr::from_str(&yaml).unwrap();
    let ext = Labels::new([("cluster", "c1")]);
    mgr.apply(std::slice::from_ref(&cfg), &ext).await.unwrap();
    buf.write_batch(&samples("visible", 5)).unwrap();
    buf.write_batch(&samples("secret_x", 5)).unwrap();
    let stats = mgr.stats()[0].1.clone();
    wait(|| stats.samples_sent.load(Ordering::Relaxed) == 5).await;
    wait(|| stats.samples_dropped.load(Ordering::Relaxed) == 5).await;
    assert!(rx.lock().accepted.iter().all(|(n, _)| n == "visible"));
    // Re-applying the same config keeps the running queue.
    mgr.apply(std::slice::from_ref(&cfg), &ext).await.unwrap();
    assert!(Arc::ptr_eq(&stats, &mgr.stats()[0].1));
    // An invalid entry changes nothing.
    let mut bad = cfg.clone();
    bad.queue_config.max_shards = 0;
    assert!(mgr.apply(&[bad], &ext).await.is_err());
    assert_eq!(mgr.stats().len(), 1);
    // Removing the entry stops the queue and releases its reader.
    mgr.apply(&[], &ext).await.unwrap();
    assert!(mgr.stats().is_empty());
    assert!(buf.reader_names().is_empty());
    mgr.stop().await;
}
