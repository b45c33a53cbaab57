//! The alerting chain inside one server: a rule fires, the built-in Alertmanager routes it to
//! the default log receiver, and `amtool` sees the alert through the Alertmanager API.

#![allow(clippy::unwrap_used)]

mod support;

use server::{Server, ServerOptions};
use support::{eventually, external, free_port, get_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_to_builtin_alertmanager_to_log_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: t\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        labels: {severity: page}\n        annotations: {summary: it fires}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("am.yml"),
        format!(
            "route:\n  receiver: log\n  group_wait: 1s\nreceivers:\n  - name: log\n    webhook_configs:\n      - url: http://127.0.0.1:{port}/api/pharos/v1/notifications\n"
        ),
    )
    .unwrap();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("data"),
        config_file: Some(dir.path().join("prometheus.yml")),
        alertmanager_config_file: Some(dir.path().join("am.yml")),
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let alerts = eventually(20, "a firing alert in /api/v1/alerts", || async {
        let v = get_json(&format!("{base}/api/v1/alerts")).await?;
        (v["data"]["alerts"][0]["state"] == "firing").then_some(v)
    })
    .await;
    assert_eq!(alerts["data"]["alerts"][0]["labels"]["alertname"], "AlwaysFiring");

    let note = eventually(20, "a notification at the log receiver", || async {
        let v = get_json(&format!("{base}/api/pharos/v1/notifications")).await?;
        v["data"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(note["status"], "firing");
    assert_eq!(note["receiver"], "log");
    assert_eq!(note["alerts"][0]["labels"]["severity"], "page");
    assert_eq!(note["alerts"][0]["annotations"]["summary"], "it fires");

    if let Some(amtool) = external("amtool") {
        let out = std::process::Command::new(amtool)
            .args([&format!("--alertmanager.url={base}"), "alert", "query", "-o", "simple"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("AlwaysFiring"), "{text}");
    }
    server.stop().await.unwrap();
}
