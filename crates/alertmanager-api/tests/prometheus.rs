//! A real Prometheus sends the alerts of an always-firing rule to Pharos' Alertmanager API,
//! and they reach a test webhook receiver.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use alertmanager::{Config, Options, SystemClock};
use alertmanager_api::AlertmanagerService;

const PROMETHEUS: &str = "/usr/bin/prometheus";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_alerts_reach_webhook_through_pharos() {
    if !common::have(PROMETHEUS) {
        return;
    }
    let (hook, hooks) = common::start_collector().await;
    let cfg = Config::parse(
        &format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {hook}/hook\n"
        ),
        "am.yml",
    )
    .unwrap();
    let svc =
        AlertmanagerService::start(cfg, Options::default(), Arc::new(SystemClock), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let am_addr = listener.local_addr().unwrap();
    let router = svc.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: AlwaysFiring\n    expr: vector(1)\n    labels: {severity: test}\n    annotations: {summary: 'always {{ $value }}'}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global: {{evaluation_interval: 1s}}\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - api_version: v2\n    static_configs:\n    - targets: ['{am_addr}']\n"
        ),
    )
    .unwrap();
    let port = common::free_port();
    let _prom = common::spawn(Command::new(PROMETHEUS).current_dir(dir.path()).args([
        "--config.file=prometheus.yml".to_string(),
        format!("--storage.tsdb.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--rules.alert.resend-delay=1s".to_string(),
    ]));
    assert!(
        common::wait_for(Duration::from_secs(30), || !hooks.for_path("/hook").is_empty()).await,
        "no notification reached the webhook"
    );
    let p = &hooks.for_path("/hook")[0];
    assert_eq!(p["status"], "firing");
    assert_eq!(p["alerts"][0]["labels"]["alertname"], "AlwaysFiring");
    assert_eq!(p["alerts"][0]["labels"]["severity"], "test");
    assert_eq!(p["alerts"][0]["annotations"]["summary"], "always 1");
    assert!(p["alerts"][0]["generatorURL"].as_str().unwrap().contains("/graph?g0.expr="));
}
