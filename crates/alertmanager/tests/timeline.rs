//! Timeline tests on a manual clock: alerts pushed at given times produce notifications in
//! exactly the expected windows (group_wait, group_interval, repeat_interval, inhibition,
//! silences, resolve, time intervals) and survive a restart from durable state.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::{
    Alertmanager, Config, ManualClock, Options, PostableAlert, Silence, SilenceMatcher,
};
use model::Labels;

const S: i64 = 1000;
const T0: i64 = 1_800_000_000_000;

const CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
  - matchers: ['team="quiet"']
    receiver: quiet
    group_by: [alertname]
    active_time_intervals: [never]
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/
- name: quiet
  webhook_configs:
  - url: http://127.0.0.1:9/
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
time_intervals:
- name: never
  time_intervals:
  - years: ['1990']
"#;

/// One delivered notification: when, its status and the alert instances it carried.
#[derive(Debug, PartialEq)]
struct Sent {
    at: i64,
    status: &'static str,
    alerts: Vec<String>,
}

struct Harness {
    clock: ManualClock,
    am: Alertmanager,
}

fn alert(name: &str, instance: &str, extra: &[(&str, &str)]) -> PostableAlert {
    let mut pairs = vec![("alertname", name), ("instance", instance)];
    pairs.extend_from_slice(extra);
    PostableAlert { labels: Labels::new(pairs), ..Default::default() }
}

impl Harness {
    fn new(dir: Option<&std::path::Path>) -> Harness {
        let clock = ManualClock::new(T0);
        Harness::with_clock(clock, dir)
    }

    fn with_clock(clock: ManualClock, dir: Option<&std::path::Path>) -> Harness {
        let cfg = Config::parse(CONFIG, "am.yml").unwrap();
        let opts = Options { storage_dir: dir.map(|d| d.to_path_buf()), ..Options::default() };
        let am = Alertmanager::new(cfg, opts, Arc::new(clock.clone())).unwrap();
        Harness { clock, am }
    }

    fn at(&self, secs: i64) {
        self.clock.set(T0 + secs * S);
    }

    fn push(&mut self, secs: i64, alerts: Vec<PostableAlert>) {
        self.at(secs);
        let r = self.am.push(alerts);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }

    /// Ticks every second from `from` to `to` (inclusive), delivering everything.
    fn run(&mut self, from: i64, to: i64) -> Vec<Sent> {
        let mut out = Vec::new();
        for s in from..=to {
            self.at(s);
            for n in self.am.tick() {
                let mut alerts: Vec<String> = n
                    .alerts
                    .iter()
                    .map(|a| {
                        format!(
                            "{}/{}:{}",
                            a.name(),
                            a.labels.get("instance").unwrap_or(""),
                            if a.resolved_at(n.now) { "resolved" } else { "firing" }
                        )
                    })
                    .collect();
                alerts.sort();
                out.push(Sent { at: s, status: n.status(), alerts });
                self.am.notified(n.id, true);
            }
        }
        out.sort_by(|a, b| (a.at, &a.alerts).cmp(&(b.at, &b.alerts)));
        out
    }
}

fn sent(at: i64, status: &'static str, alerts: &[&str]) -> Sent {
    Sent { at, status, alerts: alerts.iter().map(|s| s.to_string()).collect() }
}

#[test]
fn group_wait_then_group_interval_then_repeat() {
    let mut h = Harness::new(None);
    h.push(0, vec![alert("Down", "a", &[])]);
    assert_eq!(h.run(0, 29), vec![]);
    assert_eq!(h.run(30, 30), vec![sent(30, "firing", &["Down/a:firing"])]);
    // A second alert joins (a is refreshed, as a rule engine does); it goes out with the
    // next group_interval flush at 330 s.
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0);
    h.push(60, vec![a, alert("Down", "b", &[])]);
    assert_eq!(h.run(31, 329), vec![]);
    assert_eq!(h.run(330, 330), vec![sent(330, "firing", &["Down/a:firing", "Down/b:firing"])]);
    // Nothing changes: flushes at 630 s, 930 s, ... send nothing until repeat_interval (1 h)
    // has passed since 330 s, which is first true at the flush at 4230 s.
    let keep_alive = |h: &mut Harness, at: i64| {
        let mut a = vec![alert("Down", "a", &[]), alert("Down", "b", &[])];
        for x in &mut a {
            x.starts_at = Some(T0);
        }
        h.push(at, a);
    };
    let mut got = Vec::new();
    for chunk in 0..15 {
        let from = 331 + chunk * 300;
        keep_alive(&mut h, from);
        got.extend(h.run(from, from + 299));
    }
    assert_eq!(got, vec![sent(4230, "firing", &["Down/a:firing", "Down/b:firing"])]);
}

#[test]
fn resolve_is_sent_at_next_flush() {
    let mut h = Harness::new(None);
    h.push(0, vec![alert("Down", "a", &[])]);
    assert_eq!(h.run(0, 30).len(), 1);
    let mut resolved = alert("Down", "a", &[]);
    resolved.starts_at = Some(T0);
    resolved.ends_at = Some(T0 + 100 * S);
    h.push(100, vec![resolved]);
    assert_eq!(h.run(100, 329), vec![]);
    assert_eq!(h.run(330, 330), vec![sent(330, "resolved", &["Down/a:resolved"])]);
    // The resolved alert left the group; the next flush removes the empty group silently.
    assert_eq!(h.run(331, 1000), vec![]);
}

#[test]
fn resolve_timeout_resolves_unrefreshed_alerts() {
    let mut h = Harness::new(None);
    h.push(0, vec![alert("Down", "a", &[])]);
    assert_eq!(h.run(0, 30).len(), 1);
    // No refresh: endsAt = 0 + resolve_timeout (5 m) -> resolved by the flush at 330 s.
    assert_eq!(h.run(31, 330), vec![sent(330, "resolved", &["Down/a:resolved"])]);
}

#[test]
fn old_alert_skips_group_wait() {
    let mut h = Harness::new(None);
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0 - 600 * S);
    h.push(0, vec![a]);
    assert_eq!(h.run(0, 0), vec![sent(0, "firing", &["Down/a:firing"])]);
}

#[test]
fn inhibition_mutes_targets_while_source_fires() {
    let mut h = Harness::new(None);
    h.push(
        0,
        vec![
            alert("Slow", "a", &[("severity", "warning"), ("cluster", "eu")]),
            alert("Slow", "b", &[("severity", "warning"), ("cluster", "us")]),
            alert("Down", "a", &[("severity", "critical"), ("cluster", "eu")]),
        ],
    );
    let got = h.run(0, 30);
    assert_eq!(
        got,
        vec![sent(30, "firing", &["Down/a:firing"]), sent(30, "firing", &["Slow/b:firing"])]
    );
    // The source resolves: the inhibited target shows up with the next flush of its group.
    let mut end = alert("Down", "a", &[("severity", "critical"), ("cluster", "eu")]);
    end.starts_at = Some(T0);
    end.ends_at = Some(T0 + 40 * S);
    let mut slow_a = alert("Slow", "a", &[("severity", "warning"), ("cluster", "eu")]);
    let mut slow_b = alert("Slow", "b", &[("severity", "warning"), ("cluster", "us")]);
    slow_a.starts_at = Some(T0);
    slow_b.starts_at = Some(T0);
    h.push(40, vec![end, slow_a, slow_b]);
    let got = h.run(31, 330);
    assert_eq!(
        got,
        vec![
            sent(330, "resolved", &["Down/a:resolved"]),
            sent(330, "firing", &["Slow/a:firing", "Slow/b:firing"])
        ]
    );
}

#[test]
fn silence_mutes_until_expired() {
    let mut h = Harness::new(None);
    let sil = Silence {
        id: String::new(),
        matchers: vec![SilenceMatcher {
            name: "alertname".into(),
            value: "Down".into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: T0,
        ends_at: T0 + 3600 * S,
        updated_at: 0,
        created_by: "test".into(),
        comment: "maintenance".into(),
    };
    let id = h.am.set_silence(sil).unwrap();
    h.push(0, vec![alert("Down", "a", &[])]);
    assert_eq!(h.run(0, 329), vec![]);
    assert_eq!(h.run(330, 400), vec![]);
    h.at(400);
    h.am.expire_silence(&id).unwrap();
    // Refresh the alert so it is still firing, then the next flush (630 s) sends it.
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0);
    h.push(401, vec![a]);
    assert_eq!(h.run(401, 630), vec![sent(630, "firing", &["Down/a:firing"])]);
}

#[test]
fn active_time_interval_outside_window_sends_nothing() {
    let mut h = Harness::new(None);
    h.push(0, vec![alert("Quiet", "a", &[("team", "quiet")])]);
    assert_eq!(h.run(0, 700), vec![]);
}

#[test]
fn restart_neither_renotifies_nor_loses_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    {
        let mut h = Harness::with_clock(clock.clone(), Some(dir.path()));
        h.push(0, vec![alert("Down", "a", &[]), alert("Down", "b", &[])]);
        assert_eq!(h.run(0, 30).len(), 1);
        let mut r = alert("Down", "b", &[]);
        r.starts_at = Some(T0);
        r.ends_at = Some(T0 + 50 * S);
        h.push(50, vec![r]);
        // Dropped without any shutdown hook, like a kill -9 (state is written per batch).
    }
    let mut h = Harness::with_clock(clock, Some(dir.path()));
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0);
    h.push(60, vec![a]);
    // The regrouped alerts started long ago, so the group flushes at once: it must carry
    // the pending resolve of b and must not repeat the firing-only notification.
    let got = h.run(60, 400);
    assert_eq!(got, vec![sent(60, "firing", &["Down/a:firing", "Down/b:resolved"])]);
}

#[test]
fn failed_delivery_is_retried_at_next_flush() {
    let mut h = Harness::new(None);
    h.push(0, vec![alert("Down", "a", &[])]);
    h.at(30);
    let ns = h.am.tick();
    assert_eq!(ns.len(), 1);
    // The receiver was down for the whole retry budget: nothing is logged as sent.
    h.am.notified(ns[0].id, false);
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0);
    h.push(100, vec![a]);
    assert_eq!(h.run(31, 330), vec![sent(330, "firing", &["Down/a:firing"])]);
    // Delivered now: the following flush (the alert still firing) has nothing new to say.
    let mut a = alert("Down", "a", &[]);
    a.starts_at = Some(T0);
    h.push(350, vec![a]);
    assert_eq!(h.run(350, 630), vec![]);
}

#[test]
fn state_log_is_compacted_while_alerts_are_resent() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(Some(dir.path()));
    for round in 0..30 {
        let batch = (0..1000).map(|i| alert("Load", &format!("i{i}"), &[])).collect();
        h.push(round, batch);
    }
    let log_len = std::fs::metadata(dir.path().join("state.log")).unwrap().len();
    assert!(log_len < 3_000_000, "append log not compacted: {log_len} bytes");
    drop(h);
    let h = Harness::new(Some(dir.path()));
    assert_eq!(h.am.counts().0, 1000, "every alert survives compaction and reopening");
}
