//! `/metrics` of a running server carries the notifier's, the built-in Alertmanager's, remote
//! write's, the HTTP API's and the engine's families, driven by real traffic: an always-firing
//! alert sent to an external (fake) Alertmanager and to the built-in one, whose webhook
//! refuses every notification, samples shipped to a fake remote-write endpoint, and queries.

#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::routing::post;
use server::{Server, ServerOptions};
use support::{eventually, free_port};

/// An endpoint answering every POST to `path` with `status`.
async fn endpoint(path: &str, status: StatusCode) -> String {
    let app = axum::Router::new().route(path, post(move || async move { status }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// `/metrics` as a Prometheus scrape asks for it (OpenMetrics first; the answer is text 0.0.4).
async fn metrics(base: &str) -> String {
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let client = reqwest::Client::new();
    let resp = client.get(format!("{base}/metrics")).header("accept", accept).send().await;
    resp.unwrap().text().await.unwrap()
}

fn value(text: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerting_remote_write_and_api_families_follow_traffic() {
    let am = endpoint("/api/v2/alerts", StatusCode::OK).await;
    let hook = endpoint("/hook", StatusCode::BAD_REQUEST).await;
    let rw = endpoint("/write", StatusCode::NO_CONTENT).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let am_addr = am.trim_start_matches("http://");
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n\
             alerting:\n  alertmanagers:\n  - static_configs: [{{targets: ['{am_addr}']}}]\n\
             remote_write:\n- url: {rw}/write\n  name: fake\n  queue_config: {{batch_send_deadline: 100ms}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: Always\n    expr: vector(1)\n  - record: r\n    expr: vector(2)\n",
    )
    .unwrap();
    let am_cfg = dir.path().join("am.yml");
    std::fs::write(
        &am_cfg,
        format!("route: {{receiver: hook, group_wait: 0s}}\nreceivers:\n- name: hook\n  webhook_configs: [{{url: '{hook}/hook'}}]\n"),
    )
    .unwrap();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("data"),
        config_file: Some(dir.path().join("prometheus.yml")),
        alertmanager_config_file: Some(am_cfg),
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let q = reqwest::get(format!("{base}/api/v1/query?query=up")).await.unwrap();
    assert_eq!(q.status(), 200);

    let am_label = format!("alertmanager=\"{am}/api/v2/alerts\"");
    let rw_label = format!("remote_name=\"fake\",url=\"{rw}/write\"");
    let text = eventually(30, "alerts sent, notified and samples shipped", || async {
        let t = metrics(&base).await;
        let done = value(&t, &format!("prometheus_notifications_sent_total{{{am_label}}}"))? >= 1.0
            && value(&t, "alertmanager_notifications_failed_total{integration=\"webhook\"}")?
                >= 1.0
            && value(&t, &format!("prometheus_remote_storage_samples_total{{{rw_label}}}"))? >= 1.0;
        done.then_some(t)
    })
    .await;
    let v = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));
    assert_eq!(v(&format!("prometheus_notifications_errors_total{{{am_label}}}")), 0.0);
    assert_eq!(v("prometheus_notifications_alertmanagers_discovered"), 1.0);
    assert_eq!(v("prometheus_notifications_queue_capacity"), 10000.0);
    assert!(v("alertmanager_alerts_received_total{status=\"firing\",version=\"v2\"}") >= 1.0);
    assert_eq!(v("alertmanager_alerts{state=\"active\"}"), 1.0);
    assert!(v("alertmanager_notification_requests_failed_total{integration=\"webhook\"}") >= 1.0);
    assert_eq!(v("alertmanager_config_last_reload_successful"), 1.0);
    assert_eq!(v("alertmanager_cluster_enabled"), 0.0);
    assert_eq!(v(&format!("prometheus_remote_storage_samples_failed_total{{{rw_label}}}")), 0.0);
    assert!(v(&format!("prometheus_remote_storage_bytes_total{{{rw_label}}}")) > 0.0);
    assert!(v("prometheus_remote_storage_highest_timestamp_in_seconds") > 1.7e9);
    assert_eq!(v("prometheus_http_requests_total{code=\"200\",handler=\"/api/v1/query\"}"), 1.0);
    assert!(v("prometheus_engine_query_duration_seconds_count{slice=\"inner_eval\"}") >= 1.0);
    assert_eq!(v("prometheus_engine_queries_concurrent_max"), 20.0);
    assert!(!text.contains("# EOF"));
    // Without an Accept header (curl), the same text format 0.0.4: counters named with `_total`.
    let plain = reqwest::get(format!("{base}/metrics")).await.unwrap();
    let ct = plain.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    let plain = plain.text().await.unwrap();
    assert!(plain.contains("# TYPE prometheus_http_requests_total counter\n"), "{plain}");
    assert!(!plain.contains("# EOF"));
    server.stop().await.unwrap();
}
