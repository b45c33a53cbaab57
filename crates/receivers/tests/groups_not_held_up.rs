//! Within one receiver integration, slow or failing groups do not hold up the others, as in
//! Alertmanager where each aggregation group sends from its own goroutine: requests that hang
//! give their fast slot back (more of them than the lane's `concurrency`), and a group waiting
//! between retries gives its slots back.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alertmanager::{Alertmanager, Config, ManualClock, Notification, Options, PostableAlert};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use model::Labels;
use receivers::QueueOptions;
use receivers::retry::Backoff;
use tokio::sync::Semaphore;

mod common;
use common::{lanes, outcomes, serve};

/// How long a test waits for its outcomes.
const WAIT: Duration = Duration::from_secs(60);

/// One notification per group `Slow0..`, `Fail0..`, `Fast0..` to the webhook at `url`.
fn notifications(url: &str, groups: &[(&str, usize)]) -> Vec<Notification> {
    let yaml = format!(
        "route: {{receiver: hook, group_by: [alertname], group_wait: 30s, group_interval: 5m}}\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {url}/\n"
    );
    let clock = ManualClock::new(1_800_000_000_000);
    let cfg = Config::parse(&yaml, "am.yml").unwrap();
    let mut am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
    let alerts = groups
        .iter()
        .flat_map(|(kind, n)| (0..*n).map(move |i| format!("{kind}{i}")))
        .map(|name| PostableAlert {
            labels: Labels::new([("alertname", name.as_str()), ("instance", "x")]),
            ..Default::default()
        })
        .collect();
    am.push(alerts);
    clock.advance(30_000);
    am.tick()
}

/// A webhook: `Slow*` groups hang until `gate` opens, `Fail*` groups get a 503 on their
/// first `fail_times` requests, the rest 200 at once.
fn webhook(gate: Arc<Semaphore>, fail_times: usize) -> Router {
    let failures: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    Router::new().route(
        "/",
        post(move |body: axum::Json<serde_json::Value>| {
            let (gate, failures) = (gate.clone(), failures.clone());
            async move {
                let name = body.0["groupLabels"]["alertname"].as_str().unwrap().to_string();
                if name.starts_with("Slow") {
                    let _permit = gate.acquire().await.unwrap();
                } else if name.starts_with("Fail") {
                    let mut f = failures.lock().unwrap();
                    let seen = f.entry(name).or_default();
                    *seen += 1;
                    if *seen <= fail_times {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
                StatusCode::OK
            }
        }),
    )
}

fn ids(ns: &[Notification], prefix: &str) -> Vec<u64> {
    let mut v: Vec<u64> =
        ns.iter().filter(|n| n.group_key.contains(prefix)).map(|n| n.id).collect();
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_hanging_groups_do_not_hold_up_the_others_with_default_lanes() {
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(webhook(gate.clone(), 0)).await;
    let ns = notifications(&url, &[("Slow", 50), ("Fast", 200)]);
    assert_eq!(ns.len(), 250);
    // 50 hanging requests are more than the 16 a lane runs at once before they count as slow.
    let opts = QueueOptions::default();
    assert!(opts.concurrency < 50 && opts.max_concurrency > 50);
    let (q, mut rx) = lanes(opts);
    // The hanging groups come first, as if flushed first.
    let mut order = ns.clone();
    order.sort_by_key(|n| !n.group_key.contains("Slow"));
    for n in order {
        q.submit(n);
    }
    // Every fast group is delivered while all 50 slow sends still hang.
    let mut fast: Vec<u64> = outcomes(&mut rx, 200, WAIT)
        .await
        .into_iter()
        .inspect(|o| assert!(o.success, "{o:?}"))
        .map(|o| o.id)
        .collect();
    fast.sort_unstable();
    assert_eq!(fast, ids(&ns, "Fast"));
    gate.add_permits(1000);
    let mut slow: Vec<u64> = outcomes(&mut rx, 50, WAIT).await.into_iter().map(|o| o.id).collect();
    slow.sort_unstable();
    assert_eq!(slow, ids(&ns, "Slow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_waiting_to_retry_gives_its_request_slot_to_the_next_group() {
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(webhook(gate, 2)).await;
    let ns = notifications(&url, &[("Fail", 1), ("Fast", 5)]);
    // One request at a time; the failing group's retries wait 0.5 s, then 1 s.
    let (q, mut rx) = lanes(QueueOptions {
        concurrency: 1,
        backoff: Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(10),
            multiplier: 2,
        },
        ..QueueOptions::default()
    });
    let mut order = ns.clone();
    order.sort_by_key(|n| !n.group_key.contains("Fail"));
    for n in order {
        q.submit(n);
    }
    let got = outcomes(&mut rx, 6, WAIT).await;
    assert!(got.iter().all(|o| o.success), "{got:?}");
    // The other groups went out during the failing group's first backoff, before it
    // succeeded on its third attempt.
    let last = got.last().unwrap();
    assert_eq!(vec![last.id], ids(&ns, "Fail"), "{got:?}");
    assert_eq!(last.attempts, 3);
}
