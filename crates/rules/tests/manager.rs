//! The manager's evaluation loops on a manual clock (tokio time paused): slot alignment,
//! the first evaluations without `ALERTS` until `for` state is restored, reloads that keep
//! alert state, and stale markers for removed groups.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use model::Labels;
use rules::{AlertState, Clock, EngineQuery, GroupOptions, Manager, ManagerOptions, Rule};

const T0: i64 = 1_700_000_000_000;

fn opts(f: &Fixture) -> GroupOptions {
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    GroupOptions {
        query: Arc::new(EngineQuery::new(engine, Arc::new(f.storage.clone()))),
        ..f.opts.clone()
    }
}

fn write_rules(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_string_lossy().into_owned()
}

const RULES: &str = "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - record: tick\n        expr: vector(1)\n      - alert: Always\n        expr: vector(1) > 0\n        for: 15s\n";

/// Advances the manual clock in 1 s steps, letting the loops run between steps.
async fn advance(f: &Fixture, to_ms: i64) {
    // Let freshly spawned group loops read the clock before it moves, as they would in real
    // time; otherwise a slot less than a step after "now" is skipped by the test, not the code.
    tokio::time::sleep(Duration::from_millis(1)).await;
    while f.clock.now_ms() < to_ms {
        f.clock.advance(1_000);
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn times(f: &Fixture, selector: &str) -> Vec<i64> {
    samples(&f.storage, selector, 0, i64::MAX / 2)
        .into_iter()
        .flat_map(|(_, s)| s)
        .map(|s| s.0)
        .collect()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn loops_follow_the_slots_and_restore_before_writing_alerts() {
    let f = fixture();
    f.clock.set(T0);
    let dir = tempfile::tempdir().unwrap();
    let file = write_rules(dir.path(), "r.yml", RULES);
    let m = Manager::new(ManagerOptions { group: opts(&f) });
    m.update(60_000, std::slice::from_ref(&file), Labels::empty(), "http://x").unwrap();
    m.run(tokio::runtime::Handle::current());
    advance(&f, T0 + 65_000).await;
    m.stop();

    let first = rules::schedule::first_eval_ns("g", &file, 10_000, T0 * 1_000_000) / 1_000_000;
    let ticks = times(&f, "tick");
    assert!(ticks.len() >= 5, "{ticks:?}");
    let want: Vec<i64> = (0..ticks.len() as i64).map(|i| first + i * 10_000).collect();
    assert_eq!(ticks, want, "evaluations on the group's slot, one interval apart");
    // ALERTS only from the third evaluation: the first two run before 'for' state is restored.
    let alerts = times(&f, "ALERTS");
    assert_eq!(alerts.first().copied(), Some(ticks[2]), "{alerts:?}");
    let groups = m.rule_groups();
    let Rule::Alerting(a) = &groups[0].rules()[1] else { panic!() };
    assert_eq!(a.rule_state(), AlertState::Firing);
    assert_eq!(a.active_alerts()[0].active_at, Some(ticks[0]));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn reload_keeps_alert_state_and_marks_removed_groups_stale() {
    let f = fixture();
    f.clock.set(T0);
    let dir = tempfile::tempdir().unwrap();
    let file = write_rules(dir.path(), "r.yml", RULES);
    let other = write_rules(
        dir.path(),
        "o.yml",
        "groups:\n  - name: other\n    interval: 10s\n    rules:\n      - record: gone\n        expr: vector(2)\n",
    );
    let m = Manager::new(ManagerOptions { group: opts(&f) });
    m.update(60_000, &[file.clone(), other.clone()], Labels::empty(), "http://x").unwrap();
    m.run(tokio::runtime::Handle::current());
    advance(&f, T0 + 45_000).await;
    let active_at = {
        let g = m.rule_groups().into_iter().find(|g| g.name() == "g").unwrap();
        let Rule::Alerting(a) = &g.rules()[1] else { panic!() };
        a.active_alerts()[0].active_at
    };
    assert!(active_at.is_some());

    // Change the alert's `for`; drop the other file.
    let changed = RULES.replace("for: 15s", "for: 1h");
    std::fs::write(&file, changed).unwrap();
    m.update(60_000, std::slice::from_ref(&file), Labels::empty(), "http://x").unwrap();
    let reload_at = f.clock.now_ms();
    advance(&f, T0 + 70_000).await;
    m.stop();

    let groups = m.rule_groups();
    assert_eq!(groups.len(), 1);
    let Rule::Alerting(a) = &groups[0].rules()[1] else { panic!() };
    let alert = &a.active_alerts()[0];
    assert_eq!(alert.active_at, active_at, "alert state carried over the reload");
    assert_eq!(alert.state, AlertState::Pending, "the new 'for' applies to the kept alert");
    let gone = samples(&f.storage, "gone", 0, i64::MAX / 2);
    let last = gone[0].1.last().unwrap();
    assert!(model::value::is_stale_nan(last.1), "removed group's series marked stale");
    assert_eq!(last.0, reload_at);
    assert!(
        m.update(
            60_000,
            &[dir.path().join("missing.yml").to_string_lossy().into_owned()],
            Labels::empty(),
            ""
        )
        .is_err()
    );
    assert_eq!(m.rule_groups().len(), 1, "a failed reload keeps the old groups");
}
