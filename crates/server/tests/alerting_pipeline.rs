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

/// Pharos' rules send to a real `prometheus-alertmanager` (configured in `alerting:`), which
/// delivers to a test webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_send_to_a_real_alertmanager_that_reaches_a_webhook() {
    let Some(am_bin) = external("prometheus-alertmanager") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (am_port, port) = (free_port(), free_port());

    let payloads: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
    let store = payloads.clone();
    let hook = axum::Router::new().route(
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
    let hook_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, hook).await });

    std::fs::write(
        dir.path().join("am.yml"),
        format!(
            "route:\n  receiver: hook\n  group_wait: 1s\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{hook_port}/hook\n"
        ),
    )
    .unwrap();
    let _am = support::spawn(
        &am_bin,
        &[
            format!("--config.file={}", dir.path().join("am.yml").display()),
            format!("--storage.path={}", dir.path().join("am").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".into(),
        ],
    );
    // Alerts are resent once a minute, so a first send lost to a not-yet-listening
    // Alertmanager would only be retried after the test's deadline.
    eventually(30, "the real alertmanager to be ready", || async {
        let r = reqwest::get(format!("http://127.0.0.1:{am_port}/-/ready")).await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n    - static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n  - name: t\n    rules:\n      - alert: ToRealAM\n        expr: vector(1)\n        labels: {team: db}\n",
    )
    .unwrap();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("data"),
        config_file: Some(dir.path().join("prometheus.yml")),
        disable_builtin_alertmanager: true,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let got = eventually(60, "the real alertmanager's webhook", || async {
        payloads.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(got["status"], "firing");
    assert_eq!(got["alerts"][0]["labels"]["alertname"], "ToRealAM");
    assert_eq!(got["alerts"][0]["labels"]["team"], "db");
    let ams = get_json(&format!("http://127.0.0.1:{port}/api/v1/alertmanagers")).await.unwrap();
    let url = ams["data"]["activeAlertmanagers"][0]["url"].as_str().unwrap_or_default().to_string();
    assert_eq!(url, format!("http://127.0.0.1:{am_port}/api/v2/alerts"), "{ams}");
    server.stop().await.unwrap();
}
