//! Side-by-side HTTP ingest: POSTs 100k alerts in 20k groups to Pharos (in-process) and to
//! `/usr/bin/prometheus-alertmanager`, with a fast and with a slow (5 s) webhook receiver,
//! and prints alerts/s. Run: `cargo run --release -p alertmanager-api --example ingest_compare`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alertmanager::{Config, Options, SystemClock};
use alertmanager_api::AlertmanagerService;
use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};

const GROUPS: usize = 20_000;
const PER_GROUP: usize = 5;
const BATCH: usize = 1_000;
const CONCURRENCY: usize = 4;

fn config(hook: &str) -> String {
    format!(
        "route:\n  receiver: hook\n  group_by: [alertname, cluster]\n  group_wait: 1s\n  group_interval: 5s\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {hook}\n"
    )
}

fn batches() -> Vec<Value> {
    let mut all = Vec::with_capacity(GROUPS * PER_GROUP);
    for g in 0..GROUPS {
        for i in 0..PER_GROUP {
            all.push(json!({"labels": {"alertname": format!("Alert{}", g % 100), "cluster": format!("c{}", g / 100), "instance": format!("host-{i}:9100"), "job": "node"}, "annotations": {"summary": "disk almost full"}}));
        }
    }
    all.chunks(BATCH).map(|c| Value::Array(c.to_vec())).collect()
}

async fn hook_server(delay: Duration) -> String {
    let router = Router::new().route(
        "/",
        post(move || async move {
            tokio::time::sleep(delay).await;
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    url
}

async fn ingest(base: &str, batches: &[Value]) -> f64 {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let chunks: Vec<Vec<Value>> = (0..CONCURRENCY)
        .map(|w| batches.iter().skip(w).step_by(CONCURRENCY).cloned().collect())
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let client = client.clone();
        let url = format!("{base}/api/v2/alerts");
        tasks.push(tokio::spawn(async move {
            for b in chunk {
                let r = client.post(&url).json(&b).send().await.expect("post");
                assert!(r.status().is_success(), "{}", r.status());
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    (GROUPS * PER_GROUP) as f64 / start.elapsed().as_secs_f64()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn real(hook: &str, dir: &std::path::Path) -> Option<(Kill, String)> {
    let bin = "/usr/bin/prometheus-alertmanager";
    if !std::path::Path::new(bin).exists() {
        return None;
    }
    let cfg = dir.join(format!("real-{}.yml", hook.len()));
    std::fs::write(&cfg, config(hook)).ok()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new(bin)
        .args([
            format!("--config.file={}", cfg.display()),
            format!("--storage.path={}", dir.join(format!("data-{port}")).display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/-/ready")).await.is_ok_and(|r| r.status().is_success()) {
            return Some((Kill(child), base));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

async fn pharos(hook: &str, dir: &std::path::Path) -> (AlertmanagerService, String) {
    let cfg = Config::parse(&config(hook), "am.yml").expect("config");
    let opts = Options {
        storage_dir: Some(dir.join(format!("pharos-{}", hook.len()))),
        ..Options::default()
    };
    let svc = AlertmanagerService::start(cfg, opts, Arc::new(SystemClock), None).expect("start");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    (svc, base)
}

#[tokio::main]
async fn main() {
    let batches = batches();
    let dir = tempfile::tempdir().expect("tempdir");
    for (label, delay) in
        [("fast receiver", Duration::ZERO), ("slow receiver (5 s)", Duration::from_secs(5))]
    {
        let hook = hook_server(delay).await;
        let (_svc, base) = pharos(&hook, dir.path()).await;
        ingest(&base, &batches).await; // create the groups
        tokio::time::sleep(Duration::from_secs(2)).await; // let the first flushes start
        let p = ingest(&base, &batches).await;
        println!(
            "pharos      {label}: {p:>9.0} alerts/s ({GROUPS} groups, batches of {BATCH}, {CONCURRENCY} clients)"
        );
        if let Some((_child, base)) = real(&hook, dir.path()).await {
            ingest(&base, &batches).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let r = ingest(&base, &batches).await;
            println!("alertmanager {label}: {r:>9.0} alerts/s");
        }
    }
}
