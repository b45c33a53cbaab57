//! The same alertmanager.yml and alert sequence sent to Pharos and to the Debian
//! `prometheus-alertmanager` give the same webhook notifications (timestamps and the
//! external URL aside).

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use alertmanager::timefmt::format_api;
use alertmanager::{Clock, Config, Options, SystemClock};
use alertmanager_api::AlertmanagerService;
use serde_json::{Value, json};

const AM: &str = "/usr/bin/prometheus-alertmanager";

fn config(hook: &str) -> String {
    format!(
        r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
  - matchers: ['severity="page"']
    receiver: pager
    group_by: ['...']
    continue: true
  - matchers: ['job=~"api|web"']
    receiver: team
receivers:
- name: team
  webhook_configs:
  - url: {hook}/team
    max_alerts: 2
- name: pager
  webhook_configs:
  - url: {hook}/pager
    send_resolved: false
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [instance]
"#
    )
}

/// Drops what legitimately differs between two Alertmanagers: times and the external URL.
fn normalize(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("externalURL");
    for a in v["alerts"].as_array_mut().unwrap() {
        let a = a.as_object_mut().unwrap();
        a.remove("startsAt");
        let ends = a.remove("endsAt").unwrap();
        a.insert("endsAtSet".into(), Value::Bool(ends != "0001-01-01T00:00:00Z"));
    }
    v
}

fn by_group(payloads: Vec<Value>) -> Vec<Value> {
    let mut v: Vec<Value> = payloads.into_iter().map(normalize).collect();
    v.sort_by_key(|p| p["groupKey"].to_string());
    v
}

fn alert(labels: Value, starts: i64, ends: Option<i64>) -> Value {
    let mut a = json!({"labels": labels, "annotations": {"summary": "s"}, "startsAt": format_api(starts), "generatorURL": "http://prom/graph"});
    if let Some(e) = ends {
        a["endsAt"] = Value::String(format_api(e));
    }
    a
}

async fn post(client: &reqwest::Client, base: &str, alerts: &Value) {
    let r = client.post(format!("{base}/api/v2/alerts")).json(alerts).send().await.unwrap();
    assert!(r.status().is_success(), "{base}: {}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_webhooks_as_prometheus_alertmanager() {
    if !common::have(AM) {
        return;
    }
    let (hook_real, real_hooks) = common::start_collector().await;
    let (hook_pharos, pharos_hooks) = common::start_collector().await;
    let dir = tempfile::tempdir().unwrap();

    let real_cfg = dir.path().join("real.yml");
    std::fs::write(&real_cfg, config(&hook_real)).unwrap();
    let port = common::free_port();
    let real_url = format!("http://127.0.0.1:{port}");
    let _real = common::spawn(Command::new(AM).args([
        format!("--config.file={}", real_cfg.display()),
        format!("--storage.path={}", dir.path().join("real-data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".to_string(),
    ]));
    assert!(
        common::wait_http_ok(&format!("{real_url}/-/ready"), Duration::from_secs(20)).await,
        "alertmanager did not start"
    );

    let cfg = Config::parse(&config(&hook_pharos), "pharos.yml").unwrap();
    let svc =
        AlertmanagerService::start(cfg, Options::default(), Arc::new(SystemClock), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pharos_url = format!("http://{}", listener.local_addr().unwrap());
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let client = reqwest::Client::new();
    let now = SystemClock.now_ms();
    let batch = json!([
        alert(
            json!({"alertname": "Down", "instance": "a", "job": "api", "severity": "critical"}),
            now,
            None
        ),
        alert(
            json!({"alertname": "Down", "instance": "b", "job": "api", "severity": "critical"}),
            now,
            None
        ),
        alert(
            json!({"alertname": "Down", "instance": "c", "job": "api", "severity": "critical"}),
            now,
            None
        ),
        alert(
            json!({"alertname": "Slow", "instance": "a", "job": "api", "severity": "warning"}),
            now,
            None
        ),
        alert(
            json!({"alertname": "Slow", "instance": "z", "job": "web", "severity": "warning"}),
            now,
            None
        ),
        alert(json!({"alertname": "Paged", "instance": "p", "severity": "page"}), now, None),
    ]);
    post(&client, &real_url, &batch).await;
    post(&client, &pharos_url, &batch).await;
    let first =
        |c: &common::Collector| c.for_path("/team").len() >= 2 && !c.for_path("/pager").is_empty();
    assert!(
        common::wait_for(Duration::from_secs(15), || first(&real_hooks) && first(&pharos_hooks))
            .await
    );

    // Resolve one Down alert and the paged one; refresh the rest.
    let later = SystemClock.now_ms();
    let batch2 = json!([
        alert(
            json!({"alertname": "Down", "instance": "b", "job": "api", "severity": "critical"}),
            now,
            Some(later)
        ),
        alert(json!({"alertname": "Paged", "instance": "p", "severity": "page"}), now, Some(later)),
        alert(
            json!({"alertname": "Down", "instance": "a", "job": "api", "severity": "critical"}),
            now,
            None
        ),
        alert(
            json!({"alertname": "Down", "instance": "c", "job": "api", "severity": "critical"}),
            now,
            None
        ),
    ]);
    post(&client, &real_url, &batch2).await;
    post(&client, &pharos_url, &batch2).await;
    let second = |c: &common::Collector| c.for_path("/team").len() >= 3;
    assert!(
        common::wait_for(Duration::from_secs(15), || second(&real_hooks) && second(&pharos_hooks))
            .await
    );
    // Let any further flush (there should be none) happen in both.
    tokio::time::sleep(Duration::from_secs(4)).await;

    for path in ["/team", "/pager"] {
        let real = by_group(real_hooks.for_path(path));
        let ours = by_group(pharos_hooks.for_path(path));
        assert_eq!(
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&real).unwrap(),
            "webhook payloads for {path} differ"
        );
    }
}
