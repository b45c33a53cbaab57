//! A notification whose send outlasts its group's next flush: the receivers may report it
//! after a newer flush of the same group has already written the notification log, and that
//! late success must not overwrite the newer entry (otherwise an alert firing again would be
//! taken for one already notified and stay silent until the repeat interval).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::{Alertmanager, Config, ManualClock, Notification, Options, PostableAlert};
use model::Labels;

const S: i64 = 1000;
const T0: i64 = 1_800_000_000_000;

const CONFIG: &str = r#"
global:
  resolve_timeout: 1h
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
    send_resolved: false
"#;

fn push(
    am: &mut Alertmanager,
    clock: &ManualClock,
    secs: i64,
    inst: &str,
    start: i64,
    end: Option<i64>,
) {
    clock.set(T0 + secs * S);
    let a = PostableAlert {
        labels: Labels::new(vec![("alertname", "Down"), ("instance", inst)]),
        starts_at: Some(T0 + start * S),
        ends_at: end.map(|e| T0 + e * S),
        ..Default::default()
    };
    assert!(am.push(vec![a]).rejected.is_empty());
}

fn tick(am: &mut Alertmanager, clock: &ManualClock, secs: i64) -> Vec<Notification> {
    clock.set(T0 + secs * S);
    am.tick()
}

fn instances(n: &Notification) -> Vec<String> {
    n.alerts.iter().map(|a| a.labels.get("instance").unwrap_or("").to_string()).collect()
}

#[test]
fn a_late_success_of_an_older_flush_does_not_overwrite_a_newer_log_entry() {
    let clock = ManualClock::new(T0);
    let cfg = Config::parse(CONFIG, "am.yml").unwrap();
    let mut am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
    push(&mut am, &clock, 0, "a", 0, None);
    let first = tick(&mut am, &clock, 30);
    assert_eq!(first.len(), 1);
    am.notified(first[0].id, true);

    // b joins; the flush at 330 s notifies a and b, but its send is slow.
    push(&mut am, &clock, 60, "b", 60, None);
    let slow = tick(&mut am, &clock, 330);
    assert_eq!(slow.len(), 1);
    assert_eq!(instances(&slow[0]), ["a", "b"]);

    // Both resolve; the flush at 630 s logs the group as resolved without sending
    // (send_resolved: false) while the 330 s send is still out.
    push(&mut am, &clock, 400, "a", 0, Some(400));
    push(&mut am, &clock, 400, "b", 60, Some(400));
    assert!(tick(&mut am, &clock, 630).is_empty());

    // The slow send succeeds only now.
    clock.set(T0 + 640 * S);
    am.notified(slow[0].id, true);

    // a fires again: it is new to the receiver and must be notified at the next flush.
    push(&mut am, &clock, 700, "a", 700, None);
    let again = tick(&mut am, &clock, 930);
    assert_eq!(again.len(), 1, "a firing again was taken for already notified");
    assert_eq!(instances(&again[0]), ["a"]);
}
