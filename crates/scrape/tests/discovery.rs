//! file_sd (files re-read when they change) and http_sd feeding scrape pools, with relabeling
//! and dropped targets.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Resp, Server, wait_for};
use scrape::discovery::DiscoveryOptions;
use scrape::{Manager, ManagerOptions};
use storage::MemStorage;

fn opts() -> ManagerOptions {
    ManagerOptions {
        discovery: DiscoveryOptions {
            file_poll_interval: Duration::from_millis(50),
            dns_servers: None,
        },
        ..ManagerOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_follows_file_changes() {
    let srv = Server::start().await;
    srv.set("/metrics", Resp::text("m 1\n"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    std::fs::write(
        &file,
        format!(r#"[{{"targets": ["{}"], "labels": {{"env": "a"}}}}]"#, srv.addr),
    )
    .unwrap();
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg_path,
        "scrape_configs:\n- job_name: f\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\n  file_sd_configs: [{files: ['*.json', '*.yml']}]\n  relabel_configs:\n  - {source_labels: [env], regex: drop, action: drop}\n  - {source_labels: [__meta_filepath], target_label: from_file}\n",
    )
    .unwrap();
    let cfg = config::load(&cfg_path).unwrap();
    let mgr = Manager::new(Arc::new(MemStorage::new()), opts());
    mgr.apply_config(&cfg).unwrap();
    wait_for(10, "file target", || mgr.targets().active.len() == 1).await;
    let t = mgr.targets().active[0].clone();
    assert_eq!(t.labels.get("env"), Some("a"));
    assert_eq!(t.labels.get("from_file"), Some(file.display().to_string().as_str()));
    assert_eq!(
        t.discovered_labels.get("__meta_filepath"),
        Some(file.display().to_string().as_str())
    );
    assert_eq!(t.scrape_url, format!("http://{}/metrics", srv.addr));

    // A YAML file appears with a target that relabeling drops, and one that stays.
    std::fs::write(
        dir.path().join("more.yml"),
        "- targets: ['127.0.0.1:1']\n  labels: {env: drop}\n- targets: ['127.0.0.1:2']\n  labels: {env: b}\n",
    )
    .unwrap();
    wait_for(10, "yaml targets", || {
        let t = mgr.targets();
        t.active.len() == 2 && t.dropped.len() == 1
    })
    .await;
    assert_eq!(mgr.targets().dropped[0].discovered_labels.get("env"), Some("drop"));

    // Removing the JSON file's target removes it.
    std::fs::write(&file, "[]").unwrap();
    wait_for(10, "json target removed", || mgr.targets().active.len() == 1).await;
    assert_eq!(mgr.targets().active[0].labels.get("env"), Some("b"));
    mgr.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sd_targets() {
    let srv = Server::start().await;
    srv.set("/metrics", Resp::text("m 1\n"));
    let body =
        format!(r#"[{{"targets": ["{}"], "labels": {{"__meta_x": "y", "team": "t"}}}}]"#, srv.addr);
    srv.set("/sd", Resp { content_type: "application/json".into(), ..Resp::text(&body) });
    let yaml = format!(
        "scrape_configs:\n- job_name: h\n  scrape_interval: 100ms\n  scrape_timeout: 90ms\n  http_sd_configs: [{{url: 'http://{}/sd', refresh_interval: 100ms}}]\n  relabel_configs: [{{source_labels: [__meta_x], target_label: x}}]\n",
        srv.addr
    );
    let mgr = Manager::new(Arc::new(MemStorage::new()), opts());
    mgr.apply_config(&config::parse(&yaml, "t").unwrap()).unwrap();
    wait_for(10, "http target up", || {
        mgr.targets().active.first().is_some_and(|t| t.health == scrape::Health::Up)
    })
    .await;
    let t = mgr.targets().active[0].clone();
    assert_eq!(t.labels.get("x"), Some("y"));
    assert_eq!(t.labels.get("team"), Some("t"));
    assert_eq!(
        t.discovered_labels.get("__meta_url"),
        Some(format!("http://{}/sd", srv.addr).as_str())
    );
    srv.set("/sd", Resp { content_type: "application/json".into(), ..Resp::text("[]") });
    wait_for(10, "http target gone", || mgr.targets().active.is_empty()).await;
    mgr.stop();
}
