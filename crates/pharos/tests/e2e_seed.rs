//! The seed's story end to end, with real processes, real HTTP and real timers (shortened by
//! configuration, not mocked): the example service is scraped, its error ratio is raised,
//! `HighErrorRate` goes pending, fires after `for`, a webhook gets the notification with the
//! right labels and annotations, and the resolve follows once the errors stop.

#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The example service's binary, built beside `pharos` (test.sh builds every binary first).
fn api_server_bin() -> Option<std::path::PathBuf> {
    let pharos = std::path::PathBuf::from(env!("CARGO_BIN_EXE_pharos"));
    let bin = pharos.parent()?.join("api-server");
    if bin.exists() {
        return Some(bin);
    }
    if std::env::var("PHAROS_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1") {
        panic!("{} is missing: run `cargo build -p api-server` first", bin.display());
    }
    eprintln!("skipped: api-server not built (cargo build -p api-server)");
    None
}

type Payloads = Arc<Mutex<Vec<serde_json::Value>>>;

/// A webhook receiver on 127.0.0.1 that keeps every payload it is sent.
async fn webhook() -> (u16, Payloads) {
    let payloads: Payloads = Arc::default();
    let store = payloads.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, payloads)
}

async fn get_json(url: &str) -> Option<serde_json::Value> {
    reqwest::get(url).await.ok()?.json().await.ok()
}

async fn alert_state(base: &str) -> Option<String> {
    let v = get_json(&format!("{base}/api/v1/alerts")).await?;
    let alerts = v["data"]["alerts"].as_array()?;
    let a = alerts.iter().find(|a| a["labels"]["alertname"] == "HighErrorRate")?;
    a["state"].as_str().map(str::to_string)
}

async fn wait_for<T, Fut: std::future::Future<Output = Option<T>>>(
    secs: u64,
    what: &str,
    mut f: impl FnMut() -> Fut,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn write_configs(dir: &std::path::Path, svc: u16, hook: u16) {
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n  - job_name: api-server\n    static_configs: [{{targets: ['127.0.0.1:{svc}']}}]\n"
        ),
    )
    .unwrap();
    // The default rule, with windows and `for` shortened for the test.
    std::fs::write(
        dir.join("rules.yml"),
        r#"groups:
  - name: api-slo
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (job) (rate(http_requests_total{status=~"5.."}[10s]))
            / sum by (job) (rate(http_requests_total[10s])) > 0.01
        for: 4s
        labels:
          severity: critical
        annotations:
          summary: "Error rate exceeds 1% SLO"
          description: "{{ $labels.job }} is failing {{ $value | humanizePercentage }} of its requests."
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname, job]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{hook}/hook\n        send_resolved: true\n"
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_error_rate_pends_fires_notifies_and_resolves() {
    let Some(api_server) = api_server_bin() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (svc, port) = (free_port(), free_port());
    let (hook, payloads) = webhook().await;
    write_configs(dir.path(), svc, hook);
    let _svc = Proc(
        Command::new(api_server)
            .args([
                "--listen",
                &format!("127.0.0.1:{svc}"),
                "--load-rps",
                "40",
                "--latency-ms",
                "1",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let _pharos = Proc(
        Command::new(env!("CARGO_BIN_EXE_pharos"))
            .arg("server")
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!(
                "--alertmanager.config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let rate_query = format!("{base}/api/v1/query?query=sum(rate(http_requests_total%5B10s%5D))");
    wait_for(60, "request rate from the scraped service", || async {
        let v = get_json(&rate_query).await?;
        let rate: f64 = v["data"]["result"][0]["value"][1].as_str()?.parse().ok()?;
        (rate > 0.0).then_some(())
    })
    .await;
    assert_eq!(alert_state(&base).await, None, "no alert while the service is healthy");

    let client = reqwest::Client::new();
    let chaos = format!("http://127.0.0.1:{svc}/admin/chaos");
    client.post(format!("{chaos}?error_ratio=0.5")).send().await.unwrap();
    let pending_at = wait_for(60, "HighErrorRate pending", || async {
        (alert_state(&base).await.as_deref() == Some("pending")).then(Instant::now)
    })
    .await;
    wait_for(60, "HighErrorRate firing", || async {
        (alert_state(&base).await.as_deref() == Some("firing")).then_some(())
    })
    .await;
    assert!(pending_at.elapsed() >= Duration::from_secs(3), "fired before `for` elapsed");

    let firing = wait_for(60, "a firing webhook notification", || async {
        let p = payloads.lock().unwrap();
        p.iter().find(|v| v["status"] == "firing").cloned()
    })
    .await;
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["receiver"], "hook");
    let alert = &firing["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "HighErrorRate");
    assert_eq!(alert["labels"]["job"], "api-server");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["annotations"]["summary"], "Error rate exceeds 1% SLO");
    let description = alert["annotations"]["description"].as_str().unwrap();
    assert!(description.starts_with("api-server is failing "), "{description}");

    client.post(format!("{chaos}?error_ratio=0")).send().await.unwrap();
    let resolved = wait_for(90, "a resolved webhook notification", || async {
        let p = payloads.lock().unwrap();
        p.iter().find(|v| v["status"] == "resolved").cloned()
    })
    .await;
    assert_eq!(resolved["alerts"][0]["labels"]["alertname"], "HighErrorRate");
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
}
