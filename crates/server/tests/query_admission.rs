//! Many concurrent heavy queries against a server with `--query.max-concurrency`: some succeed,
//! the rest fail cleanly with the queue timeout, and the server keeps answering probes, status
//! endpoints and a cheap query meanwhile. With `--query.max-samples-in-flight`, queries that
//! would push the samples held by all running queries over the budget fail instead, and memory
//! stays bounded.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use server::{Server, ServerOptions};

/// A query that evaluates ~5M subquery steps without touching storage.
const HEAVY: &str = "sum_over_time(vector(1)[60d:1s])";

/// The storms compete for the same two cores: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavy_query_storm_keeps_the_server_responsive() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.path().join("data"),
        query_max_concurrency: 2,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    // The per-query timeout follows this machine's speed: ten times one heavy query, so a
    // query that gets a slot finishes, while 100 of them two at a time (fifty rounds) cannot
    // all get one in time, however fast or loaded the machine is.
    let started = std::time::Instant::now();
    let one = client.get(format!("{base}/api/v1/query")).query(&[("query", HEAVY)]);
    assert_eq!(one.send().await.unwrap().status(), 200);
    let timeout = format!("{}ms", started.elapsed().as_millis().max(10) * 10);

    let storm: Vec<_> = (0..100)
        .map(|_| {
            let (client, base, timeout) = (client.clone(), base.clone(), timeout.clone());
            tokio::spawn(async move {
                let r = client
                    .get(format!("{base}/api/v1/query"))
                    .query(&[("query", HEAVY), ("timeout", timeout.as_str())])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, body)
            })
        })
        .collect();

    // While the storm runs, everything else answers.
    let healthy = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.status(), 200);
    let build = client.get(format!("{base}/api/v1/status/buildinfo")).send().await.unwrap();
    assert_eq!(build.status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    // Those answers came while the storm was still being worked through.
    let running = storm.iter().filter(|t| !t.is_finished()).count();
    assert!(running > 0, "the storm was over before the probes");
    let cheap = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", "1+1"), ("timeout", "60s")])
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(cheap.status(), 200);

    let (mut ok, mut queue_timeouts) = (0, 0);
    for t in storm {
        let (status, body) = t.await.unwrap();
        match (status, body["status"].as_str()) {
            (200, Some("success")) => {
                assert_eq!(body["data"]["result"][0]["value"][1], "5184000", "{body}");
                ok += 1;
            }
            (503, Some("error")) => {
                assert_eq!(body["errorType"], "timeout", "{body}");
                let e = body["error"].as_str().unwrap();
                assert!(e.contains("query timed out"), "{body}");
                queue_timeouts += 1;
            }
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert!(ok > 0, "no heavy query succeeded");
    assert!(queue_timeouts > 0, "all 100 heavy queries fit in their timeout: not a storm");
    eprintln!("{ok} succeeded, {queue_timeouts} timed out, {running} running during the probes");
    // After the storm the server is fine.
    let r = client.get(format!("{base}/api/v1/query?query=1%2B1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await.unwrap();
}

/// Series and samples per series written before the server starts (2M samples).
const SERIES: usize = 200;
const PER_SERIES: i64 = 10_000;

/// Holds every raw sample of the last day of `heavy_m` (2M) while it evaluates.
const LOADING: &str = "quantile_over_time(0.5, heavy_m[1d])";

/// Writes `heavy_m` straight into the data directory the server will open.
fn write_heavy_data(data: &std::path::Path, now_ms: i64) {
    use storage::Appendable;
    let db = tsdb::Db::open(data, tsdb::Options::default()).unwrap();
    let mut app = db.appender();
    for s in 0..SERIES {
        let labels = model::Labels::new([("__name__", "heavy_m"), ("s", &s.to_string())]);
        let mut r = 0;
        for i in 0..PER_SERIES {
            r = app.append(r, &labels, now_ms - (PER_SERIES - i) * 5_000, i as f64).unwrap();
        }
    }
    app.commit().unwrap();
    db.close().unwrap();
}

/// 100 concurrent heavy queries with 20 evaluating at once, each holding 2M samples at its
/// peak, against a shared budget of 5M samples (`--query.max-samples-in-flight`): queries fail
/// with the budget's error instead of all holding their samples together, probes and a cheap
/// query keep answering, the process' memory stays far below what 20 such queries would hold
/// at once (40M samples), and the budget is whole again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavy_query_storm_is_held_to_the_shared_sample_budget() {
    const BUDGET: usize = 5_000_000;
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    write_heavy_data(&dir.path().join("data"), now_ms);
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.path().join("data"),
        config_file: Some(empty_config(dir.path())),
        query_max_concurrency: 20,
        query_max_samples: 10_000_000,
        query_max_samples_in_flight: Some(BUDGET),
        disable_builtin_alertmanager: true,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    let time = format!("{:.3}", now_ms as f64 / 1000.0);
    // One query alone succeeds (and warms up the caches that are not the point here).
    let one = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", LOADING), ("time", &time)])
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let baseline = rss_bytes();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_bytes(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    let storm: Vec<_> = (0..100)
        .map(|_| {
            let (client, base, time) = (client.clone(), base.clone(), time.clone());
            tokio::spawn(async move {
                let r = client
                    .get(format!("{base}/api/v1/query"))
                    .query(&[("query", LOADING), ("time", &time), ("timeout", "100s")])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, body)
            })
        })
        .collect();

    let healthy = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.status(), 200);
    let cheap = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", "1+1"), ("timeout", "100s")])
        .send()
        .await
        .unwrap();
    assert_eq!(cheap.status(), 200);

    let (mut ok, mut over_budget) = (0, 0);
    for t in storm {
        let (status, body) = t.await.unwrap();
        match (status, body["status"].as_str()) {
            (200, Some("success")) => {
                assert_eq!(body["data"]["result"].as_array().unwrap().len(), SERIES, "{body}");
                ok += 1;
            }
            (422, Some("error")) => {
                assert_eq!(body["errorType"], "execution", "{body}");
                let e = body["error"].as_str().unwrap();
                assert!(e.contains(&format!("would exceed {BUDGET}")), "{body}");
                over_budget += 1;
            }
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let grew = peak.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(baseline);
    eprintln!("{ok} succeeded, {over_budget} over budget, RSS grew by {} MiB at most", grew >> 20);
    // Queries starting together grow together, so often none gets to finish: the budget
    // trades their completion for the server's memory.
    assert!(over_budget > 0, "no query hit the shared budget: not a storm");
    // Without the budget the same storm grows the process by about 900 MiB (20 queries
    // holding 2M samples each at once); with it, a fraction of that.
    assert!(grew < 500 << 20, "RSS grew by {} MiB", grew >> 20);
    // Afterwards the budget is whole again: the same query alone succeeds.
    let r = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", LOADING), ("time", &time)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client.get(format!("{base}/api/v1/query?query=1%2B1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await.unwrap();
}

/// Resident memory of this process (the server runs in it), in bytes.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn empty_config(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("prometheus.yml");
    std::fs::write(&p, "global:\n  scrape_interval: 15s\n").unwrap();
    p
}
