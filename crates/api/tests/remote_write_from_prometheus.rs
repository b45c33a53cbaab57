//! A real Prometheus scrapes itself and remote-writes into Pharos' receiver; the series arrive
//! intact (raw samples equal to Prometheus' own), and Pharos' `/api/v1/read` serves a real
//! Prometheus configured with `remote_read`.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use storage::MemStorage;

fn matrix_at(base: &str, query: &str, t: &str) -> Option<String> {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    http_get(&format!("{base}/api/v1/query?query={q}&time={t}")).map(|(_, b)| b)
}

#[test]
fn prometheus_remote_writes_into_pharos() {
    if !have(PROMETHEUS) {
        return;
    }
    let storage = MemStorage::new();
    let mut st = state(storage.clone());
    st.clock = api::system_clock();
    st.appendable = Some(Arc::new(storage.clone()));
    st.flags.enable_remote_write_receiver = true;
    let pharos = Pharos::serve(st);

    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n\
         remote_write:\n  - url: {}/api/v1/write\n    queue_config:\n      batch_send_deadline: 200ms\n      min_backoff: 50ms\n",
        pharos.url()
    );
    std::fs::write(dir.path().join("prometheus.yml"), &config).unwrap();
    let prom = Prometheus::start_on(dir.path(), &dir.path().join("data"), &config, prom_port, &[]);

    // Wait for a few scrapes to arrive in Pharos.
    let up_samples = || {
        let (_, body) =
            http_get(&format!("{}/api/v1/query?query=count_over_time(up%5B1h%5D)", pharos.url()))?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse::<i64>().ok()
    };
    wait_until(Duration::from_secs(60), || up_samples().unwrap_or(0) >= 5);

    // Pick the third-newest scrape and compare raw samples of several series up to it.
    let body = matrix_at(&pharos.url(), "up[1h]", &format!("{}", now_s())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let values = v["data"]["result"][0]["values"].as_array().unwrap().clone();
    let t = values[values.len() - 3][0].to_string();
    for q in [
        "up[1h]",
        "scrape_samples_scraped[1h]",
        "prometheus_build_info[1h]",
        "count({job=\"prometheus\"} @ T)",
    ] {
        let q = q.replace('T', &t);
        wait_until(Duration::from_secs(30), || {
            matrix_at(&pharos.url(), &q, &t) == matrix_at(&prom.url(), &q, &t)
        });
    }
    assert!(storage.num_series() > 50, "many series arrived: {}", storage.num_series());
    // Federation of the same data prints the same text once Pharos has the latest scrape.
    for m in ["up", "prometheus_build_info", "%7B__name__%3D~%22scrape_.*%22%7D"] {
        let path = format!("/federate?match[]={m}");
        wait_until(Duration::from_secs(30), || {
            let a = http_get(&format!("{}{path}", pharos.url()));
            let b = http_get(&format!("{}{path}", prom.url()));
            a.as_ref().is_some_and(|a| a.1.contains("# TYPE")) && a == b
        });
    }
}

#[test]
fn prometheus_reads_pharos_through_remote_read() {
    if !have(PROMETHEUS) {
        return;
    }
    let pharos = Pharos::serve(state(mem_storage()));
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1h\nremote_read:\n  - url: {}/api/v1/read\n    read_recent: true\n",
        pharos.url()
    );
    let prom = Prometheus::start(dir.path(), &dir.path().join("data"), &config, &[]);
    let t = format!("{}", T0 as f64 + 1000.5);
    for q in ["up", "sum by (job) (rate(http_requests_total[5m]))", "temperature"] {
        let a = matrix_at(&pharos.url(), q, &t).unwrap();
        let b = matrix_at(&prom.url(), q, &t).unwrap();
        assert_eq!(a, b, "{q}");
        assert!(a.contains("metric"), "{q}: {a}");
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn pharos_queries_prometheus_through_remote_read_client() {
    if !have(PROMETHEUS) || !have(PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = backfill(dir.path());
    let config = "global:\n  scrape_interval: 1h\n  external_labels:\n    region: eu\n";
    let prom = Prometheus::start(dir.path(), &data, config, &[]);
    let client_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let serve_with = |opts: remote::ReadOptions| {
        let client = remote::ReadClient::new(opts, client_rt.handle().clone()).unwrap();
        let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
        Pharos::serve(api::ApiState::new(Arc::new(client), engine))
    };
    let url = format!("{}/api/v1/read", prom.url());
    let mut opts = remote::ReadOptions::new("prom", &url);
    // filter_external_labels: sent as matchers, stripped from the results.
    opts.external_labels = model::Labels::new([("region", "eu")]);
    let pharos = serve_with(opts.clone());
    let t = format!("{}", T0 as f64 + 2000.5);
    for q in ["up", "rate(http_requests_total[5m])", "max by (room) (temperature)"] {
        let a = matrix_at(&pharos.url(), q, &t).unwrap();
        let b = matrix_at(&prom.url(), q, &t).unwrap();
        assert_eq!(a, b, "{q}");
        assert!(a.contains("metric"), "{q}: {a}");
    }
    // Without the filter the remote end's external labels show.
    let unfiltered = serve_with(remote::ReadOptions::new("prom", &url));
    assert!(matrix_at(&unfiltered.url(), "up", &t).unwrap().contains(r#""region":"eu""#));
    // read_recent: false with local data from T0+1000s on: only older data is read remotely.
    let local_start = (T0 + 1000) * 1000;
    opts.local_start_time = Some(Arc::new(move || Some(local_start)));
    let old_only = serve_with(opts);
    assert!(!matrix_at(&old_only.url(), "up", &t).unwrap().contains("metric"));
    let before = format!("{}", T0 as f64 + 500.5);
    assert_eq!(matrix_at(&old_only.url(), "up", &before), matrix_at(&prom.url(), "up", &before));
}
