//! Shared helpers for the integration tests: free ports, a webhook collector, child
//! processes killed on drop, polling with a timeout, and the external-binary skip rule.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;

/// Starts the Alertmanager service for `cfg` and serves its API on a free loopback port:
/// the base URL, and the service.
pub async fn serve(cfg: alertmanager::Config) -> (String, alertmanager_api::AlertmanagerService) {
    let svc = alertmanager_api::AlertmanagerService::start(
        cfg,
        alertmanager::Options::default(),
        Arc::new(alertmanager::SystemClock),
        None,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, svc)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// True if the binary exists; otherwise prints the skip line (or panics when
/// PHAROS_REQUIRE_EXTERNAL=1).
pub fn have(binary: &str) -> bool {
    if std::path::Path::new(binary).exists() {
        return true;
    }
    if std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("{binary} not installed and PHAROS_REQUIRE_EXTERNAL=1");
    }
    println!("skipped: {binary} not installed");
    false
}

/// A child process killed (SIGKILL) on drop.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn spawn(cmd: &mut Command) -> ChildGuard {
    ChildGuard(
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Payloads received per path (`/a`, `/b`, ...).
#[derive(Clone, Default)]
pub struct Collector(pub Arc<Mutex<Vec<(String, serde_json::Value)>>>);

impl Collector {
    pub fn for_path(&self, path: &str) -> Vec<serde_json::Value> {
        self.0.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect()
    }
}

async fn collect(
    State(c): State<Collector>,
    Path(p): Path<String>,
    body: axum::Json<serde_json::Value>,
) {
    c.0.lock().unwrap().push((format!("/{p}"), body.0));
}

/// Starts a webhook collector on a free port; returns its base URL.
pub async fn start_collector() -> (String, Collector) {
    let c = Collector::default();
    let router = Router::new().route("/{p}", post(collect)).with_state(c.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, c)
}

/// Polls `cond` every 100 ms until it holds or `timeout` passes.
pub async fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cond()
}

/// Polls an HTTP URL until it answers 200.
pub async fn wait_http_ok(url: &str, timeout: Duration) -> bool {
    let client = reqwest::Client::new();
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
