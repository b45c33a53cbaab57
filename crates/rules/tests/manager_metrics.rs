//! The manager's `prometheus_rule_*` metrics on a manual clock (tokio time paused): scheduled,
//! missed and executed iterations when an evaluation overruns its interval, evaluations and
//! failures per rule, the group gauges, and a removed group's series going away on reload.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use model::Labels;
use rules::metrics::group_key;
use rules::{Clock, GroupOptions, Manager, ManagerOptions, QuerySample, RuleError};

const T0: i64 = 1_700_000_000_000;
const INTERVAL: i64 = 10_000;
/// How far the third evaluation of `tick` moves the clock: two and a half intervals.
const OVERRUN: i64 = 25_000;

const RULES: &str = "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - record: tick\n        expr: vector(1)\n      - record: broken\n        expr: vector(2)\n";

/// `vector(1)` returns one sample (its third evaluation takes [`OVERRUN`] on the manual
/// clock); `vector(2)` always fails; anything else returns nothing.
fn opts(f: &Fixture) -> GroupOptions {
    let clock = f.clock.clone();
    let calls = AtomicUsize::new(0);
    let query = move |expr: &str, t: i64| -> Result<Vec<QuerySample>, RuleError> {
        match expr {
            "vector(1)" => {
                if calls.fetch_add(1, Ordering::SeqCst) == 2 {
                    clock.advance(OVERRUN);
                }
                Ok(vec![QuerySample { labels: Labels::empty(), t, v: 1.0 }])
            }
            "vector(2)" => Err(RuleError::Query("boom".into())),
            _ => Ok(Vec::new()),
        }
    };
    GroupOptions { query: Arc::new(query), ..f.opts.clone() }
}

/// Advances the manual clock in 1 s steps, letting the loops run between steps.
async fn advance(f: &Fixture, to_ms: i64) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    while f.clock.now_ms() < to_ms {
        f.clock.advance(1_000);
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn iterations_missed_and_failures_are_counted() {
    let f = fixture();
    f.clock.set(T0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.yml");
    std::fs::write(&file, RULES).unwrap();
    let file = file.to_string_lossy().into_owned();
    let key = group_key(&file, "g");
    let m = Manager::new(ManagerOptions { group: opts(&f) });
    m.update(60_000, std::slice::from_ref(&file), Labels::empty(), "").unwrap();

    // Registered with zeros before the first evaluation, as Prometheus' NewGroup does.
    let before = m.metrics_snapshot().groups[&key].clone();
    assert_eq!((before.iterations, before.evaluations, before.rules), (0, 0, 2.0));
    assert_eq!(before.interval_seconds, 10.0);

    m.run(tokio::runtime::Handle::current());
    let first = rules::schedule::first_eval_ns("g", &file, INTERVAL, T0 * 1_000_000) / 1_000_000;
    advance(&f, first + 75_000).await;
    m.stop();

    let ticks: Vec<i64> = samples(&f.storage, "tick", 0, i64::MAX / 2)
        .into_iter()
        .flat_map(|(_, s)| s)
        .map(|s| s.0)
        .collect();
    // Evaluations at first, +10 s, +20 s (overruns to +45 s), then +40 s (late), +50 s, ...
    assert_eq!(&ticks[..4], &[first, first + 10_000, first + 20_000, first + 40_000]);
    let executed = ticks.len() as u64;

    let s = m.metrics_snapshot();
    let g = &s.groups[&key];
    assert_eq!(g.iterations_missed, 1, "the slot at +30 s was missed");
    assert_eq!(g.iterations, executed + 1, "scheduled = executed + missed");
    assert_eq!(g.evaluations, 2 * executed, "two rules per executed iteration");
    assert_eq!(g.evaluation_failures, executed, "the broken rule fails every time");
    assert_eq!(g.last_evaluation_samples, 1.0, "only the working rule returned a sample");
    assert_eq!(g.rules, 2.0);
    assert_eq!(g.interval_seconds, 10.0);
    let last_eval_s = g.last_evaluation_timestamp_seconds;
    assert!(last_eval_s >= (*ticks.last().unwrap() / 1000) as f64, "{last_eval_s}");
    assert!(last_eval_s <= f.clock.now_ms() as f64 / 1000.0, "{last_eval_s}");
    assert_eq!(s.rule_duration.count, 2 * executed);
    assert_eq!(s.group_duration.count, executed);
    assert_eq!(s.group_duration.quantiles.len(), 5);
    assert!(s.rule_duration.quantiles.iter().all(|(_, v)| *v >= 0.0));

    // A reload that drops the group deletes its series; the summaries stay.
    let other = dir.path().join("o.yml");
    std::fs::write(
        &other,
        "groups:\n  - name: h\n    rules:\n      - record: x\n        expr: vector(3)\n",
    )
    .unwrap();
    let other = other.to_string_lossy().into_owned();
    m.update(60_000, std::slice::from_ref(&other), Labels::empty(), "").unwrap();
    let s = m.metrics_snapshot();
    assert_eq!(s.groups.keys().collect::<Vec<_>>(), vec![&group_key(&other, "h")]);
    assert_eq!(s.groups[&group_key(&other, "h")].interval_seconds, 60.0);
    assert_eq!(s.group_duration.count, executed);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_changed_group_keeps_counting() {
    let f = fixture();
    f.clock.set(T0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.yml");
    std::fs::write(&file, RULES).unwrap();
    let file = file.to_string_lossy().into_owned();
    let key = group_key(&file, "g");
    let m = Manager::new(ManagerOptions { group: opts(&f) });
    m.update(60_000, std::slice::from_ref(&file), Labels::empty(), "").unwrap();
    m.run(tokio::runtime::Handle::current());
    let first = rules::schedule::first_eval_ns("g", &file, INTERVAL, T0 * 1_000_000) / 1_000_000;
    advance(&f, first + 5_000).await;
    let before = m.metrics_snapshot().groups[&key].clone();
    assert_eq!((before.iterations, before.evaluations, before.evaluation_failures), (1, 2, 1));

    // Same group, one rule fewer: counters carry on, the rule count follows the file.
    std::fs::write(&file, RULES.replace("      - record: broken\n        expr: vector(2)\n", ""))
        .unwrap();
    m.update(60_000, std::slice::from_ref(&file), Labels::empty(), "").unwrap();
    let after = m.metrics_snapshot().groups[&key].clone();
    assert_eq!((after.iterations, after.evaluations, after.rules), (1, 2, 1.0));
    m.stop();
}
