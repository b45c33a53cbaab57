//! Scrapes a real node_exporter with Pharos' scrape manager and with a real Prometheus using
//! the same config, and compares the series sets (label sets) both store for that target.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::wait_for;
use scrape::{Health, Manager, ManagerOptions};
use storage::{MemStorage, Queryable};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const PROMETHEUS: &str = "/usr/bin/prometheus";
/// Collectors whose series sets change between scrapes on a busy machine.
const NODE_FLAGS: &[&str] = &[
    "--no-collector.hwmon",
    "--no-collector.thermal_zone",
    "--no-collector.netdev",
    "--no-collector.netstat",
];

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

fn installed(bin: &str) -> bool {
    if std::path::Path::new(bin).exists() {
        return true;
    }
    assert!(std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"), "{bin} not installed");
    println!("skipped: {bin} not installed");
    false
}

fn start(bin: &str, args: &[String]) -> Proc {
    Proc(
        Command::new(bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    )
}

async fn get_json(url: &str) -> Option<serde_json::Value> {
    let client = reqwest::Client::builder().no_proxy().build().ok()?;
    let resp = client.get(url).send().await.ok()?;
    resp.json().await.ok()
}

fn label_set(map: &serde_json::Map<String, serde_json::Value>) -> String {
    model::Labels::new(map.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_series_set_as_prometheus() {
    if !installed(NODE_EXPORTER) || !installed(PROMETHEUS) {
        return;
    }
    let ne_port = free_port();
    let mut args = vec![format!("--web.listen-address=127.0.0.1:{ne_port}")];
    args.extend(NODE_FLAGS.iter().map(|s| s.to_string()));
    let _ne = start(NODE_EXPORTER, &args);
    let ne_url = format!("http://127.0.0.1:{ne_port}/metrics");
    wait_for(20, "node_exporter up", || {
        std::net::TcpStream::connect(("127.0.0.1", ne_port)).is_ok()
    })
    .await;
    assert!(get_json(&ne_url).await.is_none(), "metrics are not JSON");

    let yaml = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n- job_name: node\n  static_configs:\n  - targets: ['127.0.0.1:{ne_port}']\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, &yaml).unwrap();
    let prom_port = free_port();
    let _prom = start(
        PROMETHEUS,
        &[
            format!("--config.file={}", cfg_path.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
    );

    let storage = MemStorage::new();
    let mgr = Manager::new(Arc::new(storage.clone()), ManagerOptions::default());
    mgr.apply_config(&config::load(&cfg_path).unwrap()).unwrap();

    // Both have scraped at least three times.
    let prom = format!("http://127.0.0.1:{prom_port}");
    let count_url =
        format!("{prom}/api/v1/query?query=count_over_time(up%7Bjob%3D%22node%22%7D%5B1m%5D)");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = get_json(&count_url)
            .await
            .and_then(|v| v["data"]["result"][0]["value"][1].as_str().map(str::to_string));
        if n.as_deref().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) >= 3.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "prometheus did not scrape");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for(30, "pharos scraped three times", || {
        let q = storage.querier(i64::MIN, i64::MAX).unwrap();
        let mut set = q.select(false, None, &[model::Matcher::equal("__name__", "up")]).unwrap();
        set.next().is_some_and(|s| {
            storage::collect_samples(s.unwrap().samples.as_mut()).unwrap().len() >= 3
        })
    })
    .await;
    let t = mgr.targets();
    assert_eq!(t.active[0].health, Health::Up, "{}", t.active[0].last_error);
    mgr.stop();

    let series_url = format!("{prom}/api/v1/series?match%5B%5D=%7Bjob%3D%22node%22%7D");
    let body = get_json(&series_url).await.unwrap();
    let theirs: BTreeSet<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| label_set(s.as_object().unwrap()))
        .collect();
    let q = storage.querier(i64::MIN, i64::MAX).unwrap();
    let ours: BTreeSet<String> = q
        .select(true, None, &[model::Matcher::equal("job", "node")])
        .unwrap()
        .map(|s| s.unwrap().labels.to_string())
        .collect();
    let only_theirs: Vec<&String> = theirs.difference(&ours).collect();
    let only_ours: Vec<&String> = ours.difference(&theirs).collect();
    assert!(theirs.len() > 200, "prometheus stored {} series", theirs.len());
    assert!(
        only_theirs.is_empty() && only_ours.is_empty(),
        "only in Prometheus: {only_theirs:#?}\nonly in Pharos: {only_ours:#?}"
    );
}
