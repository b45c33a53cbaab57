//! Delivery through the per-receiver queues against local HTTP servers: the webhook
//! payload, retries of retryable failures, permanent failures, and a slow receiver that
//! does not hold up another one.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use alertmanager::template::Templates;
use alertmanager::{Alertmanager, Config, ManualClock, Notification, Options, PostableAlert};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use model::Labels;
use receivers::retry::Backoff;
use receivers::{Outcome, QueueOptions, ReceiverQueues};
use tokio::sync::mpsc;

mod common;
use common::serve;

fn notifications(yaml: &str) -> Vec<Notification> {
    let clock = ManualClock::new(1_800_000_000_000);
    let cfg = Config::parse(yaml, "am.yml").unwrap();
    let mut am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
    let alerts = ["a", "b", "c"]
        .iter()
        .map(|i| PostableAlert {
            labels: Labels::new([("alertname", "Down"), ("instance", i), ("job", "api")]),
            annotations: Labels::new([("summary", "down")]),
            ..Default::default()
        })
        .collect();
    am.push(alerts);
    clock.advance(30_000);
    am.tick()
}

fn queues(results: mpsc::UnboundedSender<Outcome>) -> ReceiverQueues {
    let opts = QueueOptions {
        backoff: Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(40),
            multiplier: 2,
        },
        ..QueueOptions::default()
    };
    ReceiverQueues::new(opts, Arc::new(Templates::defaults()), "http://am.example".into(), results)
}

#[tokio::test]
async fn webhook_payload_and_retry() {
    let calls = Arc::new(AtomicU32::new(0));
    let (body_tx, mut body_rx) = mpsc::unbounded_channel::<serde_json::Value>();
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/",
        post(move |body: axum::Json<serde_json::Value>| {
            let c = c.clone();
            let tx = body_tx.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < 2 {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                tx.send(body.0).unwrap();
                StatusCode::OK
            }
        }),
    ))
    .await;
    let yaml = format!(
        "route: {{receiver: hook, group_by: [alertname]}}\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {url}/\n    max_alerts: 2\n"
    );
    let ns = notifications(&yaml);
    assert_eq!(ns.len(), 1);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let q = queues(tx);
    let id = ns[0].id;
    q.submit(ns[0].clone());
    let outcome = rx.recv().await.unwrap();
    assert_eq!((outcome.id, outcome.success, outcome.attempts), (id, true, 3));
    let body = body_rx.recv().await.unwrap();
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["receiver"], "hook");
    assert_eq!(body["groupKey"], "{}:{alertname=\"Down\"}");
    assert_eq!(body["truncatedAlerts"], 1);
    assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(body["alerts"][0]["labels"]["instance"], "a");
    assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(body["commonLabels"], serde_json::json!({"alertname": "Down", "job": "api"}));
    assert_eq!(body["commonAnnotations"], serde_json::json!({"summary": "down"}));
    assert_eq!(body["externalURL"], "http://am.example");
}

#[tokio::test]
async fn permanent_failure_is_not_retried() {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let url = serve(Router::new().route(
        "/",
        post(move || {
            c.fetch_add(1, Ordering::SeqCst);
            async { StatusCode::BAD_REQUEST }
        }),
    ))
    .await;
    let yaml = format!(
        "route: {{receiver: hook}}\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {url}/\n"
    );
    let ns = notifications(&yaml);
    let (tx, mut rx) = mpsc::unbounded_channel();
    queues(tx).submit(ns[0].clone());
    let outcome = rx.recv().await.unwrap();
    assert!(!outcome.success);
    assert_eq!(outcome.attempts, 1);
    assert!(outcome.error.unwrap().contains("400"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn slow_receiver_does_not_block_another() {
    let slow = serve(Router::new().route(
        "/",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }),
    ))
    .await;
    let fast = serve(Router::new().route("/", post(|| async { StatusCode::OK }))).await;
    let yaml = format!(
        "route:\n  receiver: slow\n  group_by: [alertname]\n  routes:\n  - {{matchers: ['instance=\"a\"'], receiver: slow, continue: true}}\n  - {{matchers: ['instance=\"a\"'], receiver: fast}}\nreceivers:\n- name: slow\n  webhook_configs:\n  - url: {slow}/\n- name: fast\n  webhook_configs:\n  - url: {fast}/\n"
    );
    let ns = notifications(&yaml);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let q = queues(tx);
    // Fill the slow receiver with many notifications first.
    for _ in 0..50 {
        for n in ns.iter().filter(|n| n.receiver == "slow") {
            q.submit(n.clone());
        }
    }
    for n in ns.iter().filter(|n| n.receiver == "fast") {
        q.submit(n.clone());
    }
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let o = rx.recv().await.unwrap();
            if o.receiver == "fast" {
                return o;
            }
        }
    })
    .await
    .unwrap();
    assert!(outcome.success);
}
