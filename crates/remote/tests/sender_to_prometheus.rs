//! Pharos' sender writes into a real Prometheus (`--web.enable-remote-write-receiver`); the
//! receiver is stopped for a few seconds mid-stream and no sample is lost.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{PROMETHEUS, Prometheus, free_port, have, reqwest::get, wait_until};
use model::{Labels, Sample};
use remote::{DiskBuffer, DiskBufferOptions, QueueOptions, WriteOptions, WriteQueue};

const CONFIG: &str = "global:\n  scrape_interval: 1h\n";

fn samples(job: &str, from: i64, n: i64, base: i64) -> Vec<(Labels, Sample)> {
    (from..from + n)
        .flat_map(|i| {
            (0..3).map(move |k| {
                let l = Labels::new([
                    ("__name__", "pharos_test_metric"),
                    ("job", job),
                    ("idx", &k.to_string()),
                ]);
                (l, Sample::new(base + i * 1000, (i * 10 + k) as f64))
            })
        })
        .collect()
}

fn count_in_prometheus(p: &Prometheus, at_s: i64) -> Option<i64> {
    let q =
        format!("/api/v1/query?query=sum(count_over_time(pharos_test_metric%5B1h%5D))&time={at_s}");
    let (status, body) = get(&p.url(&q))?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_survives_receiver_outage_without_loss() {
    if !have(PROMETHEUS) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let flags = ["--web.enable-remote-write-receiver"];
    let mut prom =
        tokio::task::block_in_place(|| Prometheus::start(dir.path(), port, CONFIG, &flags));

    let buf = Arc::new(
        DiskBuffer::open(dir.path().join("buffer"), DiskBufferOptions::default()).unwrap(),
    );
    let reader = Arc::new(buf.reader("prom").unwrap());
    let mut opts = WriteOptions::new("prom", &prom.url("/api/v1/write"));
    opts.external_labels = Labels::new([("cluster", "test")]);
    opts.queue = QueueOptions {
        max_samples_per_send: 50,
        batch_send_deadline: Duration::from_millis(100),
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        poll_interval: Duration::from_millis(20),
        ..QueueOptions::default()
    };
    let queue = WriteQueue::start(opts, reader).unwrap();
    let stats = queue.stats();

    let base = chrono_now_ms() - 600_000;
    buf.write_batch(&samples("a", 0, 100, base)).unwrap();
    tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(30), || stats.samples_sent.load(Ordering::Relaxed) == 300)
    });

    // Outage: the receiver goes away for a full minute while more data is written.
    prom.stop();
    let outage_started = std::time::Instant::now();
    buf.write_batch(&samples("a", 100, 100, base)).unwrap();
    buf.write_batch(&samples("b", 0, 50, base)).unwrap();
    tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(30), || stats.samples_retried.load(Ordering::Relaxed) > 0)
    });
    assert_eq!(stats.samples_sent.load(Ordering::Relaxed), 300);
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(outage_started.elapsed())).await;
    assert_eq!(stats.samples_sent.load(Ordering::Relaxed), 300, "nothing sent while down");

    // The receiver comes back on the same port and data directory.
    let mut prom =
        tokio::task::block_in_place(|| Prometheus::start(dir.path(), port, CONFIG, &flags));
    tokio::task::block_in_place(|| {
        wait_until(Duration::from_secs(60), || stats.samples_sent.load(Ordering::Relaxed) == 750)
    });
    assert_eq!(stats.samples_failed.load(Ordering::Relaxed), 0);
    let at = (base + 250_000) / 1000;
    let n = tokio::task::block_in_place(|| count_in_prometheus(&prom, at));
    assert_eq!(n, Some(750), "every sample arrived exactly once");
    let (_, body) = tokio::task::block_in_place(|| {
        get(&prom.url("/api/v1/series?match[]=pharos_test_metric%7Bjob=%22b%22,idx=%220%22%7D"))
    })
    .unwrap();
    assert!(body.contains(r#""cluster":"test""#), "external labels attached: {body}");
    queue.stop().await;
    prom.stop();
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
