//! The server scrapes itself: `up{job="pharos"}` becomes 1 and its own series are queryable
//! through the API, and a config reload keeps the data.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use server::{Server, ServerOptions};

async fn query(client: &reqwest::Client, base: &str, q: &str) -> serde_json::Value {
    let url = format!("{base}/api/v1/query");
    let resp = client.get(url).query(&[("query", q)]).send().await.unwrap();
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_itself_and_survives_reload() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    // The port is unknown before binding, so scrape the address the server reports after start
    // by rewriting the config and reloading.
    std::fs::write(&cfg, "global:\n  scrape_interval: 1s\n").unwrap();
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.path().join("data"),
        config_file: Some(cfg.clone()),
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let addr = server.local_addr();
    let base = format!("http://{addr}");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pharos\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    tokio::task::block_in_place(|| server.reload()).unwrap();

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = query(&client, &base, "up{job=\"pharos\"}").await;
        if v["data"]["result"][0]["value"][1] == "1" {
            break;
        }
        assert!(Instant::now() < deadline, "no successful self-scrape: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let v = query(&client, &base, "prometheus_build_info").await;
    assert_eq!(v["data"]["result"][0]["metric"]["job"], "pharos", "{v}");

    let targets: serde_json::Value =
        client.get(format!("{base}/api/v1/targets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(targets["data"]["activeTargets"][0]["health"], "up", "{targets}");

    // A broken config is refused and the old one keeps running.
    std::fs::write(&cfg, "scrape_configs:\n  - job_nam: x\n").unwrap();
    assert!(tokio::task::block_in_place(|| server.reload()).is_err());
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("prometheus_config_last_reload_successful 0"), "{metrics}");
    let targets: serde_json::Value =
        client.get(format!("{base}/api/v1/targets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(targets["data"]["activeTargets"][0]["scrapePool"], "pharos", "old config kept");
    server.stop().await.unwrap();
}
