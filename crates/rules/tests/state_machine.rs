//! The alert state machine and group evaluation on a manual clock: pending → firing →
//! resolved, resends and `endsAt`, `keep_firing_for`, `ALERTS`/`ALERTS_FOR_STATE` with stale
//! markers, restore after restart, recording-rule ordering, limits and health.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use model::Labels;
use rules::{AlertState, AlertingRule, Group, RecordingRule, Rule, RuleHealth};

fn alert_rule(name: &str, expr: &str, hold: i64, keep: i64, restored: bool) -> Rule {
    Rule::Alerting(AlertingRule::new(
        name,
        expr,
        hold,
        keep,
        Labels::new([("severity", "page")]),
        Labels::new([("summary", "{{ $labels.instance }} is {{ $value }}")]),
        Labels::empty(),
        "http://pharos:9090",
        restored,
    ))
}

fn group(f: &Fixture, rules: Vec<Rule>) -> Group {
    Group::new("g", "f.yml", MIN, 0, None, Labels::empty(), rules, f.opts.clone())
}

fn alerting(g: &Group) -> &AlertingRule {
    match &g.rules()[0] {
        Rule::Alerting(a) => a,
        _ => unreachable!(),
    }
}

#[test]
fn pending_firing_resolved_with_resends_and_series() {
    let f = fixture();
    let g = group(&f, vec![alert_rule("Down", "down", 2 * MIN, 0, true)]);
    let inst = [("__name__", "down"), ("instance", "a")];
    for t in [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN] {
        put(&f.storage, &inst, t, 7.0);
    }

    g.eval(0);
    let a = alerting(&g).active_alerts();
    assert_eq!((a.len(), a[0].state), (1, AlertState::Pending));
    assert_eq!(a[0].annotations.get("summary"), Some("a is 7"));
    assert_eq!(a[0].labels.to_string(), r#"{alertname="Down", instance="a", severity="page"}"#);
    assert!(f.sink.take().is_empty(), "pending alerts are not sent");

    g.eval(MIN);
    assert_eq!(alerting(&g).rule_state(), AlertState::Pending);
    g.eval(2 * MIN);
    assert_eq!(alerting(&g).rule_state(), AlertState::Firing);
    let sent = f.sink.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].starts_at_ms, 2 * MIN);
    assert_eq!(
        sent[0].ends_at_ms,
        2 * MIN + 4 * MIN,
        "endsAt = now + 4 × max(interval, resend delay)"
    );
    assert_eq!(sent[0].generator_url, "http://pharos:9090/graph?g0.expr=down&g0.tab=1");

    g.eval(3 * MIN);
    assert!(f.sink.take().is_empty(), "resent only after more than resend-delay");
    g.eval(4 * MIN);
    assert_eq!(f.sink.take().len(), 1);

    // The series disappears (stale marker): the alert resolves and is sent as resolved.
    put(&f.storage, &inst, 5 * MIN, model::value::stale_nan());
    g.eval(5 * MIN);
    assert!(alerting(&g).active_alerts().is_empty());
    assert_eq!(alerting(&g).current_alerts()[0].state, AlertState::Inactive);
    let sent = f.sink.take();
    assert_eq!(sent[0].ends_at_ms, 5 * MIN);
    assert_eq!(alerting(&g).rule_state(), AlertState::Inactive);

    // Resolved alerts are resent while retained (15 m), then forgotten.
    g.eval(7 * MIN);
    assert_eq!(f.sink.take().len(), 1);
    g.eval(20 * MIN);
    assert_eq!(alerting(&g).current_alerts().len(), 1);
    g.eval(20 * MIN + 1);
    assert!(alerting(&g).current_alerts().is_empty());

    // ALERTS: pending at 0 and 1m, firing from 2m, stale at 5m.
    let pending = samples(&f.storage, "ALERTS{alertstate=\"pending\"}", 0, 30 * MIN);
    assert_eq!(pending[0].1[..2], [(0, 1.0), (MIN, 1.0)]);
    assert!(model::value::is_stale_nan(pending[0].1[2].1), "pending series goes stale when firing");
    let firing = samples(&f.storage, "ALERTS{alertstate=\"firing\"}", 0, 30 * MIN);
    let pts: Vec<i64> = firing[0].1.iter().map(|s| s.0).collect();
    assert_eq!(pts, vec![2 * MIN, 3 * MIN, 4 * MIN, 5 * MIN]);
    assert!(model::value::is_stale_nan(firing[0].1[3].1));
    let for_state = samples(&f.storage, "ALERTS_FOR_STATE", 0, 30 * MIN);
    assert_eq!(for_state[0].1[0], (0, 0.0), "value is the active-since time in seconds");
    assert_eq!(
        for_state[0].0.to_string(),
        r#"{__name__="ALERTS_FOR_STATE", alertname="Down", instance="a", severity="page"}"#
    );
}

#[test]
fn pending_alert_that_goes_away_is_dropped_without_notification() {
    let f = fixture();
    let g = group(&f, vec![alert_rule("Down", "down", 5 * MIN, 0, true)]);
    put(&f.storage, &[("__name__", "down")], 0, 1.0);
    g.eval(0);
    put(&f.storage, &[("__name__", "down")], MIN, model::value::stale_nan());
    g.eval(MIN);
    assert!(alerting(&g).current_alerts().is_empty());
    assert!(f.sink.take().is_empty());
}

#[test]
fn keep_firing_for_holds_a_firing_alert() {
    let f = fixture();
    let g = group(&f, vec![alert_rule("Flap", "flap", 0, 2 * MIN, true)]);
    put(&f.storage, &[("__name__", "flap")], 0, 1.0);
    g.eval(0);
    assert_eq!(alerting(&g).rule_state(), AlertState::Firing, "for: 0 fires at once");
    put(&f.storage, &[("__name__", "flap")], MIN, model::value::stale_nan());
    g.eval(MIN);
    let a = alerting(&g).active_alerts();
    assert_eq!(a[0].state, AlertState::Firing);
    assert_eq!(a[0].keep_firing_since, Some(MIN));
    g.eval(2 * MIN);
    assert_eq!(alerting(&g).rule_state(), AlertState::Firing);
    g.eval(3 * MIN);
    assert_eq!(alerting(&g).rule_state(), AlertState::Inactive, "2m after keep_firing_since");
    assert_eq!(alerting(&g).current_alerts()[0].resolved_at, Some(3 * MIN));
}

#[test]
fn keep_firing_since_resets_when_the_condition_returns() {
    let f = fixture();
    let g = group(&f, vec![alert_rule("Flap", "flap", 0, 2 * MIN, true)]);
    put(&f.storage, &[("__name__", "flap")], 0, 1.0);
    g.eval(0);
    put(&f.storage, &[("__name__", "flap")], MIN, model::value::stale_nan());
    g.eval(MIN);
    put(&f.storage, &[("__name__", "flap")], 2 * MIN, 1.0);
    g.eval(2 * MIN);
    assert_eq!(alerting(&g).active_alerts()[0].keep_firing_since, None);
}

#[test]
fn restore_for_state_after_restart() {
    let f = fixture();
    let hold = 30 * MIN;
    let old = group(&f, vec![alert_rule("Slow", "slow", hold, 0, true)]);
    for t in 0..=10 {
        put(&f.storage, &[("__name__", "slow"), ("instance", "a")], t * MIN, 1.0);
    }
    for t in 0..=3 {
        old.eval(t * MIN);
    }
    // Down from 3m to 10m. The new process starts unrestored: no ALERTS written yet.
    let new = group(&f, vec![alert_rule("Slow", "slow", hold, 0, false)]);
    f.clock.set(10 * MIN);
    new.eval(9 * MIN);
    new.eval(10 * MIN);
    assert_eq!(samples(&f.storage, "ALERTS", 9 * MIN, 10 * MIN).len(), 0);
    new.restore_for_state(10 * MIN);
    // Pending for 3m of 30m; remaining 27m ≥ grace, so activeAt moves by the downtime (7m).
    let a = alerting(&new).active_alerts();
    assert_eq!(a[0].active_at, Some(7 * MIN));
    assert!(alerting(&new).restored());
    new.eval(11 * MIN);
    assert_eq!(samples(&f.storage, "ALERTS", 11 * MIN, 11 * MIN).len(), 1);
}

#[test]
fn restore_gives_at_least_the_grace_period() {
    let f = fixture();
    let hold = 15 * MIN;
    let old = group(&f, vec![alert_rule("Slow", "slow", hold, 0, true)]);
    for t in 0..=30 {
        put(&f.storage, &[("__name__", "slow")], t * MIN, 1.0);
    }
    for t in 0..=10 {
        old.eval(t * MIN);
    }
    let new = group(&f, vec![alert_rule("Slow", "slow", hold, 0, false)]);
    new.eval(20 * MIN);
    new.eval(21 * MIN);
    new.restore_for_state(21 * MIN);
    // 10m spent of 15m: 5m remaining < 10m grace, so it fires at restore + 10m.
    assert_eq!(alerting(&new).active_alerts()[0].active_at, Some(21 * MIN + 10 * MIN - hold));
    new.eval(30 * MIN);
    assert_eq!(alerting(&new).rule_state(), AlertState::Pending);
    new.eval(31 * MIN);
    assert_eq!(alerting(&new).rule_state(), AlertState::Firing);
}

#[test]
fn recording_rules_see_earlier_outputs_at_the_same_timestamp() {
    let f = fixture();
    let rules = vec![
        Rule::Recording(RecordingRule::new("step1", "src", Labels::new([("stage", "1")]))),
        Rule::Recording(RecordingRule::new("step2", "step1", Labels::empty())),
        Rule::Recording(RecordingRule::new("early", "late", Labels::empty())),
        Rule::Recording(RecordingRule::new("late", "src", Labels::empty())),
    ];
    let g = group(&f, rules);
    put(&f.storage, &[("__name__", "src"), ("job", "j")], 0, 42.0);
    g.eval(0);
    let s2 = samples(&f.storage, "step2", 0, 0);
    assert_eq!(s2[0].0.to_string(), r#"{__name__="step2", job="j", stage="1"}"#);
    assert_eq!(s2[0].1, vec![(0, 42.0)]);
    assert!(samples(&f.storage, "early", 0, 0).is_empty(), "a later rule's output is not visible");
    g.eval(MIN);
    assert_eq!(samples(&f.storage, "early", MIN, MIN)[0].1, vec![(MIN, 42.0)]);
}

#[test]
fn limits_and_health() {
    let f = fixture();
    let rules = vec![alert_rule("Many", "many", 0, 0, true)];
    let g = Group::new("g", "f.yml", MIN, 1, None, Labels::empty(), rules, f.opts.clone());
    put(&f.storage, &[("__name__", "many"), ("i", "1")], 0, 1.0);
    put(&f.storage, &[("__name__", "many"), ("i", "2")], 0, 1.0);
    g.eval(0);
    let (health, err, _, _) = g.rules()[0].status();
    assert_eq!(health, RuleHealth::Bad);
    assert_eq!(err.as_deref(), Some("exceeded limit of 1 with 2 alerts"));
    assert!(alerting(&g).current_alerts().is_empty());
}

#[test]
fn duplicate_recording_output_is_an_error() {
    let f = fixture();
    let rules = vec![Rule::Recording(RecordingRule::new("r", "x", Labels::new([("a", "b")])))];
    let g = group(&f, rules);
    put(&f.storage, &[("__name__", "x"), ("a", "1")], 0, 1.0);
    put(&f.storage, &[("__name__", "x"), ("a", "2")], 0, 1.0);
    g.eval(0);
    let (health, err, ts, _) = g.rules()[0].status();
    assert_eq!(health, RuleHealth::Bad);
    assert_eq!(
        err.as_deref(),
        Some("vector contains metrics with the same labelset after applying rule labels")
    );
    assert_eq!(ts, Some(0));
}

#[test]
fn query_offset_shifts_queries_and_written_samples() {
    let f = fixture();
    let rules = vec![Rule::Recording(RecordingRule::new("r", "x", Labels::empty()))];
    let g = Group::new("g", "f.yml", MIN, 0, Some(MIN), Labels::empty(), rules, f.opts.clone());
    put(&f.storage, &[("__name__", "x")], 0, 5.0);
    g.eval(MIN);
    assert_eq!(samples(&f.storage, "r", 0, 10 * MIN)[0].1, vec![(0, 5.0)]);
}
