//! kill -9 and restart while alerts are firing: the pending resolve is not lost and the
//! firing notification is not repeated.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use alertmanager::timefmt::format_api;
use alertmanager::{Clock, SystemClock};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_pharos-alertmanager");

fn start(dir: &std::path::Path, port: u16) -> common::ChildGuard {
    common::spawn(Command::new(BIN).args([
        format!("--config.file={}", dir.join("am.yml").display()),
        format!("--storage.path={}", dir.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ]))
}

fn alert(instance: &str, starts: i64, ends: i64) -> serde_json::Value {
    json!({"labels": {"alertname": "Down", "instance": instance}, "startsAt": format_api(starts), "endsAt": format_api(ends)})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_neither_loses_resolve_nor_duplicates() {
    let (hook, hooks) = common::start_collector().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("am.yml"),
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 10s\n  repeat_interval: 1h\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {hook}/hook\n"
        ),
    )
    .unwrap();
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut am = start(dir.path(), port);
    assert!(common::wait_http_ok(&format!("{base}/-/ready"), Duration::from_secs(20)).await);
    let now = SystemClock.now_ms();
    let firing = json!([alert("a", now, now + 3_600_000), alert("b", now, now + 3_600_000)]);
    let r = client.post(format!("{base}/api/v2/alerts")).json(&firing).send().await.unwrap();
    assert!(r.status().is_success());
    assert!(common::wait_for(Duration::from_secs(10), || hooks.for_path("/hook").len() == 1).await);

    // b resolves; the next flush is ~10 s away. Kill -9 right after the API accepted it.
    let resolve = json!([alert("b", now, SystemClock.now_ms())]);
    let r = client.post(format!("{base}/api/v2/alerts")).json(&resolve).send().await.unwrap();
    assert!(r.status().is_success());
    am.0.kill().unwrap();
    am.0.wait().unwrap();
    assert_eq!(
        hooks.for_path("/hook").len(),
        1,
        "the resolve must not have gone out before the kill"
    );

    let _am = start(dir.path(), port);
    assert!(common::wait_http_ok(&format!("{base}/-/ready"), Duration::from_secs(20)).await);
    assert!(
        common::wait_for(Duration::from_secs(10), || hooks.for_path("/hook").len() >= 2).await,
        "resolve lost"
    );
    let p = &hooks.for_path("/hook")[1];
    let states: Vec<(String, String)> = p["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["labels"]["instance"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![("a".to_string(), "firing".to_string()), ("b".to_string(), "resolved".to_string())]
    );

    // The alerts API still knows the firing alert after the restart.
    let alerts: serde_json::Value =
        client.get(format!("{base}/api/v2/alerts")).send().await.unwrap().json().await.unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);

    // Kill again with nothing pending: the restart must not repeat the notification.
    drop(_am);
    let _am = start(dir.path(), port);
    assert!(common::wait_http_ok(&format!("{base}/-/ready"), Duration::from_secs(20)).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hooks.for_path("/hook").len(), 2, "duplicate notification after restart");
}
