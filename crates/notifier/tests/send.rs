//! The notifier against a fake Alertmanager on 127.0.0.1 (body, path prefix, auth, batching,
//! per-set relabeling) and against the real `prometheus-alertmanager`.

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use model::Labels;
use notifier::{Alert, Notifier, NotifierOptions};
use parking_lot::Mutex;

type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

async fn fake_am(prefix: &str) -> (String, Received) {
    let got: Received = Arc::default();
    async fn handle(State(got): State<Received>, headers: HeaderMap, body: String) -> &'static str {
        let auth =
            headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        got.lock().push((auth, serde_json::from_str(&body).unwrap()));
        "ok"
    }
    let app = Router::new()
        .route(&format!("{prefix}/api/v2/alerts"), post(handle))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, got)
}

fn alert(name: &str, team: &str) -> Alert {
    Alert {
        labels: Labels::new([("alertname", name), ("team", team)]),
        annotations: Labels::new([("summary", "s")]),
        starts_at_ms: 1_700_000_000_000,
        ends_at_ms: 1_700_000_240_000,
        generator_url: "http://p/graph?g0.expr=up&g0.tab=1".into(),
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met within 10s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_batches_with_prefix_auth_and_relabeling() {
    let (a1, got1) = fake_am("/am").await;
    let (a2, got2) = fake_am("").await;
    let yaml = format!(
        "global:\n  external_labels: {{dc: eu}}\nalerting:\n  alertmanagers:\n  - path_prefix: /am/\n    basic_auth: {{username: u, password: p}}\n    static_configs: [{{targets: ['{a1}']}}]\n  - authorization: {{credentials: tok}}\n    static_configs: [{{targets: ['{a2}']}}]\n    alert_relabel_configs:\n    - source_labels: [team]\n      regex: b\n      action: drop\n"
    );
    let cfg = config::parse(&yaml, "p.yml").unwrap();
    let ext = Labels::new(cfg.global.external_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let n = Notifier::new(NotifierOptions {
        max_batch_size: 2,
        external_labels: ext,
        ..Default::default()
    });
    n.apply_config(&cfg.alerting).unwrap();
    assert_eq!(n.alertmanagers().active.len(), 2);
    let runner = n.clone();
    let task = tokio::spawn(async move { runner.run(Duration::from_secs(60)).await });
    n.send(vec![alert("A", "a"), alert("B", "b"), alert("C", "a")]);
    wait_for(|| got1.lock().iter().map(|(_, b)| b.as_array().unwrap().len()).sum::<usize>() == 3)
        .await;
    wait_for(|| got2.lock().iter().map(|(_, b)| b.as_array().unwrap().len()).sum::<usize>() == 2)
        .await;
    n.stop();
    task.await.unwrap();

    let got1 = got1.lock();
    assert!(got1.iter().all(|(auth, _)| auth == "Basic dTpw"), "basic auth u:p");
    assert!(got1.iter().all(|(_, b)| b.as_array().unwrap().len() <= 2), "batches of at most 2");
    let first = &got1[0].1[0];
    assert_eq!(first["labels"]["dc"], "eu", "external labels added");
    assert_eq!(first["startsAt"], "2023-11-14T22:13:20.000Z");
    assert_eq!(first["endsAt"], "2023-11-14T22:17:20.000Z");
    assert_eq!(first["generatorURL"], "http://p/graph?g0.expr=up&g0.tab=1");
    let got2 = got2.lock();
    assert!(got2.iter().all(|(auth, _)| auth == "Bearer tok"));
    let teams: Vec<&str> = got2
        .iter()
        .flat_map(|(_, b)| {
            b.as_array().unwrap().iter().map(|a| a["labels"]["team"].as_str().unwrap())
        })
        .collect();
    assert_eq!(teams, vec!["a", "a"], "team b dropped by this set's alert_relabel_configs only");
    assert_eq!(n.counters().0, 5);
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_alertmanager_receives_alerts() {
    let bin = "/usr/bin/prometheus-alertmanager";
    if !std::path::Path::new(bin).exists() {
        assert!(std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"), "{bin} missing");
        println!("skipped: {bin} not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("am.yml");
    std::fs::write(&cfg_path, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n")
        .unwrap();
    let port = free_port();
    let _am = Proc(
        Command::new(bin)
            .arg(format!("--config.file={}", cfg_path.display()))
            .arg(format!("--storage.path={}", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let status_url = format!("http://127.0.0.1:{port}/api/v2/status");
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(&status_url).send().await.is_err() {
        assert!(Instant::now() < deadline, "alertmanager did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let yaml = format!(
        "alerting:\n  alertmanagers:\n  - static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    );
    let cfg = config::parse(&yaml, "p.yml").unwrap();
    let n = Notifier::new(NotifierOptions::default());
    n.apply_config(&cfg.alerting).unwrap();
    let runner = n.clone();
    let task = tokio::spawn(async move { runner.run(Duration::from_secs(60)).await });
    let now = chrono::Utc::now().timestamp_millis();
    let mut a = alert("RealAM", "x");
    a.starts_at_ms = now - 60_000;
    a.ends_at_ms = now + 240_000;
    n.send(vec![a]);
    let alerts_url = format!("http://127.0.0.1:{port}/api/v2/alerts");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body: serde_json::Value =
            client.get(&alerts_url).send().await.unwrap().json().await.unwrap();
        let list = body.as_array().unwrap();
        if let Some(got) = list.iter().find(|x| x["labels"]["alertname"] == "RealAM") {
            assert_eq!(got["labels"]["team"], "x");
            assert_eq!(got["annotations"]["summary"], "s");
            assert_eq!(got["status"]["state"], "active");
            break;
        }
        assert!(Instant::now() < deadline, "alert not received: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n.counters(), (1, 0, 0));
    n.stop();
    task.await.unwrap();
}
