//! Agent mode: Pharos scrapes, buffers and remote-writes into a real Prometheus, and its own
//! query API answers as Prometheus' agent does.

#![allow(clippy::unwrap_used)]

mod support;

use server::{Server, ServerOptions};
use support::{eventually, external, free_port, get_json, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_scrapes_and_remote_writes_into_prometheus() {
    let Some(prometheus) = external("prometheus") else { return };
    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let _prom = spawn(
        &prometheus,
        &[
            "--config.file=/dev/null".into(),
            format!("--storage.tsdb.path={}", dir.path().join("prom").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            "--web.enable-remote-write-receiver".into(),
        ],
    );
    let port = free_port();
    let cfg = dir.path().join("agent.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\n  external_labels: {{agent: a1}}\nscrape_configs:\n  - job_name: agent\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\nremote_write:\n  - url: http://127.0.0.1:{prom_port}/api/v1/write\n"
        ),
    )
    .unwrap();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("agent"),
        config_file: Some(cfg),
        agent: true,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    assert!(dir.path().join("agent/wal").is_dir(), "agent keeps its buffer under wal/");

    let url = format!("http://127.0.0.1:{prom_port}/api/v1/query?query=up");
    let series = eventually(30, "up from the agent in prometheus", || async {
        let v = get_json(&url).await?;
        let r = v["data"]["result"].as_array()?.first()?.clone();
        (r["value"][1] == "1").then_some(r)
    })
    .await;
    assert_eq!(series["metric"]["job"], "agent");
    assert_eq!(series["metric"]["agent"], "a1", "external labels are sent: {series}");

    let own = get_json(&format!("http://127.0.0.1:{port}/api/v1/query?query=up")).await.unwrap();
    assert_eq!(own["error"], "unavailable with Prometheus Agent", "{own}");
    server.stop().await.unwrap();
}
