//! The global series limit (`--storage.tsdb.max-series`) through the scrape path: a target
//! whose exposition suddenly explodes in cardinality has its scrapes refused with an error
//! naming the limit (on /api/v1/targets, up=0), the refusals are counted on /metrics, the head
//! never grows past the limit, and another target's existing series keep being ingested.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use server::{Server, ServerOptions};

const LIMIT: usize = 100;

/// Serves `series` gauges, or `exploded` ones once `explode` is set.
fn target(series: usize, exploded: usize, explode: Arc<AtomicBool>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let explode = explode.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut req = Vec::new();
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let n = if explode.load(Ordering::Relaxed) { exploded } else { series };
                let body: String =
                    (0..n).map(|i| format!("card_test{{id=\"{i}\"}} {i}\n")).collect();
                let _ = write!(
                    c,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

async fn get_json(client: &reqwest::Client, url: &str) -> Option<serde_json::Value> {
    client.get(url).send().await.ok()?.json().await.ok()
}

async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn scalar(client: &reqwest::Client, base: &str, q: &str) -> Option<f64> {
    let v = get_json(client, &format!("{base}/api/v1/query?query={}", urlencode(q))).await?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cardinality_explosion_is_refused_and_other_targets_keep_ingesting() {
    let steady = target(10, 10, Arc::default());
    let explode = Arc::new(AtomicBool::new(false));
    let bomb = target(10, 1000, explode.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: steady\n    static_configs: [{{targets: ['127.0.0.1:{steady}']}}]\n  - job_name: bomb\n    static_configs: [{{targets: ['127.0.0.1:{bomb}']}}]\n"
        ),
    )
    .unwrap();
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.path().join("data"),
        config_file: Some(cfg),
        tsdb_max_series: LIMIT,
        disable_builtin_alertmanager: true,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    // Both targets ingest under the limit.
    for job in ["steady", "bomb"] {
        let q = format!("count(card_test{{job=\"{job}\"}})");
        eventually(30, "both targets scraped", || async {
            (scalar(&client, &base, &q).await == Some(10.0)).then_some(())
        })
        .await;
    }

    // The bomb target goes from 10 to 1,000 series.
    explode.store(true, Ordering::Relaxed);
    let bomb_target = eventually(30, "the exploding target's scrape refused", || async {
        let v = get_json(&client, &format!("{base}/api/v1/targets")).await?;
        let t = v["data"]["activeTargets"]
            .as_array()?
            .iter()
            .find(|t| t["labels"]["job"] == "bomb")?
            .clone();
        (t["health"] == "down").then_some(t)
    })
    .await;
    let err = bomb_target["lastError"].as_str().unwrap();
    assert!(
        err.contains("series limit of 100") && err.contains("--storage.tsdb.max-series"),
        "{err}"
    );
    assert_eq!(scalar(&client, &base, "up{job=\"bomb\"}").await, Some(0.0));

    // The steady target keeps ingesting its existing series, scrape after scrape.
    let before = scalar(&client, &base, "count_over_time(up{job=\"steady\"}[1h])").await.unwrap();
    eventually(30, "three more scrapes of the steady target", || async {
        let n = scalar(&client, &base, "count_over_time(up{job=\"steady\"}[1h])").await?;
        (n >= before + 3.0).then_some(())
    })
    .await;
    assert_eq!(scalar(&client, &base, "min_over_time(up{job=\"steady\"}[5s])").await, Some(1.0));
    assert_eq!(scalar(&client, &base, "count(card_test{job=\"steady\"})").await, Some(10.0));
    let s = get_json(&client, &format!("{base}/api/v1/targets")).await.unwrap();
    let steady_t = s["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["labels"]["job"] == "steady")
        .unwrap()
        .clone();
    assert_eq!(
        (steady_t["health"].as_str(), steady_t["lastError"].as_str()),
        (Some("up"), Some(""))
    );

    // The refusals are counted and the head stayed within the limit.
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let value = |name: &str| -> f64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(value("pharos_tsdb_head_series_limit_reached_total") > 0.0);
    assert!(value("prometheus_tsdb_head_series ") <= LIMIT as f64);
    assert_eq!(value("pharos_tsdb_head_max_series "), LIMIT as f64);
    server.stop().await.unwrap();
}
