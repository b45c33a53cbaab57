//! A receiver that is down for half an hour, on a manual clock: every flush during the outage
//! tries again with the group's current alerts, nothing is dropped from a group while its
//! notification fails (alerts that resolve during the outage still get their resolved
//! notification), groups that start during the outage are delivered too, and once the
//! receiver is back the next flush delivers exactly what changed, once.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::{Alertmanager, Config, ManualClock, Options, PostableAlert};
use model::Labels;

const S: i64 = 1000;
const T0: i64 = 1_800_000_000_000;

const CONFIG: &str = r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/
    send_resolved: true
"#;

/// One delivery attempt: when, whether the receiver took it, and what it carried.
#[derive(Debug, PartialEq)]
struct Attempt {
    at: i64,
    delivered: bool,
    alerts: Vec<String>,
}

struct Harness {
    clock: ManualClock,
    am: Alertmanager,
}

impl Harness {
    fn new() -> Harness {
        let clock = ManualClock::new(T0);
        let cfg = Config::parse(CONFIG, "am.yml").unwrap();
        let am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
        Harness { clock, am }
    }

    /// Pushes (or refreshes) alert `name/instance` at `secs`, resolved at `ends` if given.
    fn push(&mut self, secs: i64, name: &str, instance: &str, started: i64, ends: Option<i64>) {
        self.clock.set(T0 + secs * S);
        let a = PostableAlert {
            labels: Labels::new(vec![("alertname", name), ("instance", instance)]),
            starts_at: Some(T0 + started * S),
            ends_at: ends.map(|e| T0 + e * S),
            ..Default::default()
        };
        let r = self.am.push(vec![a]);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }

    /// Ticks every second over `[from, to]`; the receiver takes notifications iff `up`.
    fn run(&mut self, from: i64, to: i64, up: bool) -> Vec<Attempt> {
        let mut out = Vec::new();
        for s in from..=to {
            self.clock.set(T0 + s * S);
            for n in self.am.tick() {
                let mut alerts: Vec<String> = n
                    .alerts
                    .iter()
                    .map(|a| {
                        let state = if a.resolved_at(n.now) { "resolved" } else { "firing" };
                        format!("{}/{}:{state}", a.name(), a.labels.get("instance").unwrap_or(""))
                    })
                    .collect();
                alerts.sort();
                out.push(Attempt { at: s, delivered: up, alerts });
                self.am.notified(n.id, up);
            }
        }
        out
    }
}

fn attempt(at: i64, delivered: bool, alerts: &[&str]) -> Attempt {
    Attempt { at, delivered, alerts: alerts.iter().map(|s| s.to_string()).collect() }
}

#[test]
fn notifications_from_a_half_hour_outage_are_delivered_when_the_receiver_returns() {
    let mut h = Harness::new();
    h.push(0, "Down", "a", 0, None);
    assert_eq!(h.run(0, 59, true), vec![attempt(30, true, &["Down/a:firing"])]);

    // The receiver goes down at 60 s and stays down until 1860 s. Meanwhile the rule engine
    // keeps refreshing its alerts every minute; b joins at 120 s, a resolves at 200 s, and a
    // new group (Other) starts at 540 s.
    let mut attempts = Vec::new();
    for minute in 1..31 {
        let t = minute * 60;
        if t < 200 {
            h.push(t, "Down", "a", 0, None);
        } else {
            h.push(t, "Down", "a", 0, Some(200));
        }
        if t >= 120 {
            h.push(t, "Down", "b", 120, None);
        }
        if t >= 540 {
            h.push(t, "Other", "x", 540, None);
        }
        attempts.extend(h.run(t, t + 59, false));
    }
    let down_group = ["Down/a:resolved", "Down/b:firing"];
    let expected: Vec<Attempt> = vec![
        attempt(330, false, &down_group),
        attempt(570, false, &["Other/x:firing"]),
        attempt(630, false, &down_group),
        attempt(870, false, &["Other/x:firing"]),
        attempt(930, false, &down_group),
        attempt(1170, false, &["Other/x:firing"]),
        attempt(1230, false, &down_group),
        attempt(1470, false, &["Other/x:firing"]),
        attempt(1530, false, &down_group),
        attempt(1770, false, &["Other/x:firing"]),
        attempt(1830, false, &down_group),
    ];
    assert_eq!(attempts, expected, "every flush in the outage retries with the group's alerts");

    // Back up at 1860 s: the next flush of each group delivers what the outage held back.
    let mut back = Vec::new();
    for minute in 31..60 {
        let t = minute * 60;
        h.push(t, "Down", "b", 120, None);
        h.push(t, "Other", "x", 540, None);
        back.extend(h.run(t, t + 59, true));
    }
    assert_eq!(
        back,
        vec![attempt(2070, true, &["Other/x:firing"]), attempt(2130, true, &down_group)],
        "delivered once each after the outage, then nothing new until repeat_interval"
    );
}
