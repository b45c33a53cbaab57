//! `prometheus_notifications_*` driven through real sends to fake Alertmanagers on 127.0.0.1:
//! one that accepts, one that answers 500.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use model::Labels;
use notifier::{Alert, Notifier, NotifierOptions};

async fn fake_am(status: StatusCode) -> String {
    let app = Router::new().route("/api/v2/alerts", post(move || async move { status }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn alert(name: &str) -> Alert {
    Alert {
        labels: Labels::new([("alertname", name)]),
        annotations: Labels::empty(),
        starts_at_ms: 1_700_000_000_000,
        ends_at_ms: 0,
        generator_url: String::new(),
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met within 10s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn notifier(targets: &[&str], capacity: usize) -> Notifier {
    let list = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let yaml =
        format!("alerting:\n  alertmanagers:\n  - static_configs: [{{targets: [{list}]}}]\n");
    let cfg = config::parse(&yaml, "p.yml").unwrap();
    let n = Notifier::new(NotifierOptions { queue_capacity: capacity, ..Default::default() });
    n.apply_config(&cfg.alerting).unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_sent_errors_latency_and_drops_per_alertmanager() {
    let good = fake_am(StatusCode::OK).await;
    let bad = fake_am(StatusCode::INTERNAL_SERVER_ERROR).await;
    let n = notifier(&[&good, &bad], 10_000);
    let (good_url, bad_url) =
        (format!("http://{good}/api/v2/alerts"), format!("http://{bad}/api/v2/alerts"));
    let m = n.metrics();
    assert_eq!(m.alertmanagers_discovered, 2);
    assert_eq!(m.queue_capacity, 10_000);
    for url in [&good_url, &bad_url] {
        let a = &m.alertmanagers[url];
        let zero = (a.sent_total, a.errors_total, a.latency_seconds_count) == (0, 0, 0);
        assert!(zero, "series exist at zero: {a:?}");
    }

    let runner = n.clone();
    let task = tokio::spawn(async move { runner.run(Duration::from_secs(60)).await });
    n.send(vec![alert("A"), alert("B"), alert("C")]);
    wait_for(|| n.metrics().alertmanagers.values().all(|a| a.latency_seconds_count == 1)).await;
    let m = n.metrics();
    let (g, b) = (&m.alertmanagers[&good_url], &m.alertmanagers[&bad_url]);
    assert_eq!((g.sent_total, g.errors_total), (3, 0));
    assert_eq!((b.sent_total, b.errors_total), (3, 1), "sent counts failed requests too");
    assert!(g.latency_seconds_sum > 0.0 && b.latency_seconds_sum > 0.0);
    assert_eq!(m.dropped_total, 0, "one Alertmanager accepted the batch");
    assert_eq!(m.queue_length, 0);
    n.stop();
    task.await.unwrap();

    // Only failing Alertmanagers: the whole batch is dropped.
    let n = notifier(&[&bad], 10_000);
    let runner = n.clone();
    let task = tokio::spawn(async move { runner.run(Duration::from_secs(60)).await });
    n.send(vec![alert("A"), alert("B")]);
    wait_for(|| n.metrics().dropped_total == 2).await;
    assert_eq!(n.metrics().alertmanagers[&bad_url].errors_total, 1);
    n.stop();
    task.await.unwrap();
}

#[test]
fn a_full_queue_drops_its_oldest_alerts() {
    let n = notifier(&["127.0.0.1:1"], 2);
    n.send(vec![alert("A"), alert("B"), alert("C")]);
    let m = n.metrics();
    assert_eq!((m.queue_length, m.queue_capacity, m.dropped_total), (2, 2, 1));
}
