//! The Debian `amtool` against Pharos' API v2: add, query and expire silences; add and
//! query alerts; show the config status.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use alertmanager::Config;
use alertmanager_api::AlertmanagerService;

const AMTOOL: &str = "/usr/bin/amtool";

const CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/
"#;

async fn start() -> (String, AlertmanagerService) {
    let cfg = Config::parse(CONFIG, "am.yml").unwrap();
    common::serve(cfg).await
}

async fn amtool(url: &str, args: &[&str]) -> (bool, String) {
    let mut full = vec![format!("--alertmanager.url={url}")];
    full.extend(args.iter().map(|s| s.to_string()));
    let out =
        tokio::task::spawn_blocking(move || Command::new(AMTOOL).args(&full).output().unwrap())
            .await
            .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_silences_and_alerts() {
    if !common::have(AMTOOL) {
        return;
    }
    let (url, _svc) = start().await;

    let (ok, out) = amtool(
        &url,
        &["alert", "add", "alertname=DiskFull", "instance=db1", "--annotation=summary=full"],
    )
    .await;
    assert!(ok, "alert add: {out}");
    let (ok, out) = amtool(&url, &["alert", "query", "-o", "json"]).await;
    assert!(ok, "alert query: {out}");
    let alerts: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(alerts[0]["labels"]["alertname"], "DiskFull");
    assert_eq!(alerts[0]["annotations"]["summary"], "full");
    assert_eq!(alerts[0]["receivers"][0]["name"], "hook");

    let (ok, out) = amtool(
        &url,
        &[
            "silence",
            "add",
            "alertname=DiskFull",
            "--comment=maintenance",
            "--author=tester",
            "--duration=1h",
        ],
    )
    .await;
    assert!(ok, "silence add: {out}");
    let id = out.trim().to_string();
    assert_eq!(id.len(), 36, "silence id: {out}");

    let (ok, out) = amtool(&url, &["silence", "query", "-o", "json"]).await;
    assert!(ok, "silence query: {out}");
    let sils: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sils[0]["id"], id.as_str());
    assert_eq!(sils[0]["status"]["state"], "active");
    assert_eq!(sils[0]["createdBy"], "tester");
    assert_eq!(sils[0]["matchers"][0]["name"], "alertname");

    // The alert is now silenced: hidden unless silenced alerts are asked for.
    let (ok, out) = amtool(&url, &["alert", "query", "-o", "json"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap().as_array().unwrap().len(),
        0
    );
    let (ok, out) = amtool(&url, &["alert", "query", "-s", "-o", "json"]).await;
    assert!(ok, "{out}");
    let silenced: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(silenced[0]["status"]["silencedBy"][0], id.as_str());
    assert_eq!(silenced[0]["status"]["state"], "suppressed");

    let (ok, out) = amtool(&url, &["silence", "expire", &id]).await;
    assert!(ok, "silence expire: {out}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (ok, out) = amtool(&url, &["silence", "query", "-q"]).await;
    assert!(ok, "{out}");
    assert!(out.trim().is_empty(), "no active silences expected: {out}");
    let (ok, out) = amtool(&url, &["silence", "query", "--expired", "-q"]).await;
    assert!(ok, "{out}");
    assert_eq!(out.trim(), id);

    let (ok, out) = amtool(&url, &["config", "show"]).await;
    assert!(ok, "config show: {out}");
    assert!(out.contains("receiver: hook"), "{out}");
}
