//! Alertmanager's own metrics through the real path: alerts pushed over the API v2, sent to
//! a webhook that accepts and to one that refuses (400, not retried), a silence, a failed
//! reload, and the standalone `/metrics` endpoint's text.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use alertmanager::{Config, Options, SystemClock};
use alertmanager_api::AlertmanagerService;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

async fn webhook(status: StatusCode) -> String {
    let app = Router::new().route("/", post(move || async move { status }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met within 10s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_alerts_silences_and_reloads_are_counted() {
    let (good, bad) = (webhook(StatusCode::OK).await, webhook(StatusCode::BAD_REQUEST).await);
    let yaml = format!(
        "route:\n  receiver: good\n  group_by: [alertname]\n  group_wait: 0s\n  routes:\n  - matchers: [alertname=Bad]\n    receiver: bad\nreceivers:\n- name: good\n  webhook_configs: [{{url: '{good}'}}]\n- name: bad\n  webhook_configs: [{{url: '{bad}'}}]\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("am.yml");
    std::fs::write(&path, &yaml).unwrap();
    let cfg = Config::parse(&yaml, "am.yml").unwrap();
    let svc = AlertmanagerService::start(
        cfg,
        Options::default(),
        Arc::new(SystemClock),
        Some(path.clone()),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = svc.router().merge(alertmanager_api::metrics::router(svc.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let m = svc.metrics();
    assert!(m.config_last_reload_successful);
    assert!(m.config_hash > 0.0);
    let webhook_series = |m: &alertmanager_api::AlertmanagerMetrics| {
        m.integrations.iter().find(|s| s.integration == "webhook").cloned().unwrap()
    };
    assert_eq!(webhook_series(&m).notifications_total, 0, "series exist before any send");

    let client = reqwest::Client::new();
    let body = serde_json::json!([
        {"labels": {"alertname": "Good"}},
        {"labels": {"alertname": "Bad"}},
        {"labels": {"alertname": "Old"}, "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-01-01T00:01:00Z"},
        {"labels": {}},
    ]);
    let resp = client.post(format!("{url}/api/v2/alerts")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 400, "the alert without labels is rejected");
    wait_for(|| webhook_series(&svc.metrics()).notifications_total >= 2).await;
    let m = svc.metrics();
    let w = webhook_series(&m);
    assert_eq!((w.notifications_total, w.notifications_failed_total), (2, 1));
    assert_eq!((w.requests_total, w.requests_failed_total), (2, 1));
    assert_eq!(w.latency_count, 2);
    assert_eq!(w.latency_buckets[5], 2);
    let r = m.core.received;
    assert_eq!((r.firing, r.resolved, r.invalid), (3, 1, 1));
    assert_eq!((m.core.alerts_active, m.core.alerts_suppressed), (2, 0));

    let silence = serde_json::json!({
        "matchers": [{"name": "alertname", "value": "Good", "isRegex": false}],
        "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2999-01-01T00:00:00Z",
        "createdBy": "t", "comment": "c"
    });
    let resp = client.post(format!("{url}/api/v2/silences")).json(&silence).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let m = svc.metrics();
    assert_eq!((m.core.alerts_active, m.core.alerts_suppressed), (1, 1));
    assert_eq!(m.core.silences_active, 1);

    std::fs::write(&path, "route: [broken").unwrap();
    assert!(svc.reload_from_file().is_err());
    let m2 = svc.metrics();
    assert!(!m2.config_last_reload_successful);
    assert_eq!(m2.config_hash, m.config_hash, "the loaded configuration is unchanged");

    let text = client.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    for want in [
        "alertmanager_notifications_failed_total{integration=\"webhook\"} 1\n",
        "alertmanager_notifications_total{integration=\"webhook\"} 2\n",
        "alertmanager_notifications_total{integration=\"email\"} 0\n",
        "alertmanager_alerts_received_total{status=\"firing\",version=\"v2\"} 3\n",
        "alertmanager_alerts_invalid_total{version=\"v2\"} 1\n",
        "alertmanager_alerts{state=\"suppressed\"} 1\n",
        "alertmanager_silences{state=\"active\"} 1\n",
        "alertmanager_config_last_reload_successful 0\n",
        "alertmanager_cluster_enabled 0\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}
