//! Load on the delivery lanes against local HTTP servers: a burst of thousands of new groups
//! to a slow webhook delivers every group exactly once with bounded sends in flight, and a
//! newer flush of a group replaces its notification still waiting in the lane.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alertmanager::{Alertmanager, Config, ManualClock, Notification, Options, PostableAlert};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use model::Labels;
use receivers::queue::SUPERSEDED;
use receivers::{Outcome, QueueOptions};
use tokio::sync::Semaphore;

mod common;
use common::{lanes, outcomes, serve};

/// How long a test waits for its outcomes.
const WAIT: Duration = Duration::from_secs(120);

const T0: i64 = 1_800_000_000_000;

fn core(url: &str, clock: &ManualClock) -> Alertmanager {
    let yaml = format!(
        "global: {{resolve_timeout: 1h}}\nroute: {{receiver: hook, group_by: [alertname, cluster], group_wait: 30s, group_interval: 5m}}\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {url}/\n    send_resolved: false\n"
    );
    let cfg = Config::parse(&yaml, "am.yml").unwrap();
    Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap()
}

fn alert(name: &str, cluster: &str, instance: &str) -> PostableAlert {
    PostableAlert {
        labels: Labels::new([("alertname", name), ("cluster", cluster), ("instance", instance)]),
        ..Default::default()
    }
}

/// What a webhook server saw: bodies per group key and the most requests at once.
#[derive(Default)]
struct Seen {
    bodies: Mutex<HashMap<String, Vec<serde_json::Value>>>,
    now: AtomicUsize,
    max: AtomicUsize,
}

fn recording(seen: Arc<Seen>, gate: Option<Arc<Semaphore>>, delay: Duration) -> Router {
    Router::new().route(
        "/",
        post(move |body: axum::Json<serde_json::Value>| {
            let (seen, gate) = (seen.clone(), gate.clone());
            async move {
                let at_once = seen.now.fetch_add(1, Ordering::SeqCst) + 1;
                seen.max.fetch_max(at_once, Ordering::SeqCst);
                if let Some(g) = gate {
                    g.acquire().await.unwrap().forget();
                }
                tokio::time::sleep(delay).await;
                let key = body.0["groupKey"].as_str().unwrap().to_string();
                seen.bodies.lock().unwrap().entry(key).or_default().push(body.0);
                seen.now.fetch_sub(1, Ordering::SeqCst);
                StatusCode::OK
            }
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_new_groups_to_a_slow_webhook_delivers_every_group_once() {
    const GROUPS: usize = 5000;
    const CONCURRENCY: usize = 8;
    let seen = Arc::new(Seen::default());
    let url = serve(recording(seen.clone(), None, Duration::from_millis(2))).await;
    let clock = ManualClock::new(T0);
    let mut am = core(&url, &clock);
    let alerts = (0..GROUPS).map(|i| alert("Burst", &format!("c{i}"), "x")).collect();
    assert_eq!(am.push(alerts).accepted, GROUPS);
    clock.advance(30_000);
    let ns = am.tick();
    assert_eq!(ns.len(), GROUPS);

    let (q, mut rx) = lanes(QueueOptions { concurrency: CONCURRENCY, ..QueueOptions::default() });
    for n in ns {
        q.submit(n);
    }
    let out = outcomes(&mut rx, GROUPS, WAIT).await;
    let failed: Vec<&Outcome> = out.iter().filter(|o| !o.success).collect();
    assert!(failed.is_empty(), "{} failed, first {:?}", failed.len(), failed.first());
    for o in &out {
        am.notified(o.id, o.success);
    }
    let bodies = seen.bodies.lock().unwrap();
    assert_eq!(bodies.len(), GROUPS);
    assert!(bodies.values().all(|b| b.len() == 1), "a group was notified twice");
    let max = seen.max.load(Ordering::SeqCst);
    assert!(max <= CONCURRENCY, "{max} sends at once, limit {CONCURRENCY}");
    drop(bodies);

    // Everything was logged as sent: the next flushes send nothing.
    clock.advance(300_000);
    assert!(am.tick().is_empty());
}

#[tokio::test]
async fn a_newer_flush_replaces_the_waiting_notification_of_its_group() {
    let seen = Arc::new(Seen::default());
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(recording(seen.clone(), Some(gate.clone()), Duration::ZERO)).await;
    let clock = ManualClock::new(T0);
    let mut am = core(&url, &clock);
    am.push(vec![alert("Busy", "c", "x"), alert("Late", "c", "a")]);
    clock.advance(30_000);
    let first: Vec<Notification> = am.tick();
    assert_eq!(first.len(), 2);
    let busy = first.iter().find(|n| n.group_key.contains("Busy")).unwrap().clone();
    let older = first.iter().find(|n| n.group_key.contains("Late")).unwrap().clone();

    // One send at a time: Busy goes out (and hangs at the gate), Late's first flush waits.
    let (q, mut rx) = lanes(QueueOptions { concurrency: 1, ..QueueOptions::default() });
    q.submit(busy.clone());
    q.submit(older.clone());

    // Late's next flush carries a new alert and replaces the waiting one at once.
    am.push(vec![alert("Late", "c", "b")]);
    clock.advance(300_000);
    // (Busy is flushed again too, its send not being reported yet; it is left out here.)
    let newer: Vec<Notification> =
        am.tick().into_iter().filter(|n| n.group_key == older.group_key).collect();
    assert_eq!(newer.len(), 1);
    q.submit(newer[0].clone());
    let replaced = outcomes(&mut rx, 1, WAIT).await.remove(0);
    assert_eq!(replaced.id, older.id);
    assert!(!replaced.success);
    assert_eq!(replaced.error.as_deref(), Some(SUPERSEDED));
    assert_eq!(replaced.attempts, 0);

    gate.add_permits(10);
    let mut rest = outcomes(&mut rx, 2, WAIT).await;
    rest.sort_by_key(|o| o.id);
    assert_eq!(
        rest.iter().map(|o| (o.id, o.success)).collect::<Vec<_>>(),
        [(busy.id, true), (newer[0].id, true)]
    );
    let bodies = seen.bodies.lock().unwrap();
    let late = &bodies[&older.group_key];
    assert_eq!(late.len(), 1, "the replaced notification was sent too");
    let instances: Vec<&str> = late[0]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["instance"].as_str().unwrap())
        .collect();
    assert_eq!(instances, ["a", "b"]);
    assert_eq!(bodies[&busy.group_key].len(), 1);
}

#[tokio::test]
async fn a_flush_waiting_behind_a_send_of_the_same_alerts_is_not_sent_again() {
    let seen = Arc::new(Seen::default());
    let gate = Arc::new(Semaphore::new(0));
    let url = serve(recording(seen.clone(), Some(gate.clone()), Duration::ZERO)).await;
    let clock = ManualClock::new(T0);
    let mut am = core(&url, &clock);
    am.push(vec![alert("Same", "c", "a"), alert("Grows", "c", "a")]);
    clock.advance(30_000);
    let first = am.tick();
    assert_eq!(first.len(), 2);
    let (q, mut rx) = lanes(QueueOptions { concurrency: 4, ..QueueOptions::default() });
    for n in &first {
        q.submit(n.clone());
    }

    // Both sends hang; the next flushes come while they are out: Same's carries the same
    // alert, Grows' a new one.
    am.push(vec![alert("Grows", "c", "b")]);
    clock.advance(300_000);
    let second = am.tick();
    assert_eq!(second.len(), 2);
    for n in &second {
        q.submit(n.clone());
    }
    gate.add_permits(10);
    let out = outcomes(&mut rx, 4, WAIT).await;
    assert!(out.iter().all(|o| o.success), "{out:?}");
    let same_again = second.iter().find(|n| n.group_key.contains("Same")).unwrap();
    let o = out.iter().find(|o| o.id == same_again.id).unwrap();
    assert_eq!(o.attempts, 0, "sent again although the receiver has these alerts");

    let bodies = seen.bodies.lock().unwrap();
    let same = first.iter().find(|n| n.group_key.contains("Same")).unwrap();
    let grows = first.iter().find(|n| n.group_key.contains("Grows")).unwrap();
    assert_eq!(bodies[&same.group_key].len(), 1);
    let counts: Vec<usize> =
        bodies[&grows.group_key].iter().map(|b| b["alerts"].as_array().unwrap().len()).collect();
    assert_eq!(counts, [1, 2]);
}
