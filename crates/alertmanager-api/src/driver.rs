//! The driver loop: ticks the core when a group is due, hands due notifications to delivery,
//! and feeds delivery outcomes back to the core (which writes the notification log).
//!
//! It sleeps until the earliest group flush (to the millisecond, so a group's first
//! notification leaves `group_wait` after its first alert, as in Alertmanager), or until
//! woken by a push, a reload or an outcome. Outcomes that arrived meanwhile are recorded
//! together under one lock, with one write of durable state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alertmanager::{Alertmanager, Notification};
use parking_lot::Mutex;
use receivers::Outcome;
use tokio::sync::{Notify, mpsc};

/// The longest sleep without a pending flush (the GC interval is checked on each tick).
const MAX_SLEEP_MS: i64 = 1000;

/// What wakes or stops the driver.
#[derive(Default)]
pub(crate) struct Signals {
    pub wake: Notify,
    pub stop: Notify,
    pub stopped: AtomicBool,
}

/// Runs until `signals.stop` is notified (or `stopped` is set).
pub(crate) async fn run(
    am: &Mutex<Alertmanager>,
    signals: &Signals,
    outcomes: &mut mpsc::UnboundedReceiver<Outcome>,
    submit: impl Fn(Notification),
) {
    let mut received: Vec<(u64, bool)> = Vec::new();
    loop {
        if signals.stopped.load(Ordering::SeqCst) {
            return;
        }
        while let Ok(o) = outcomes.try_recv() {
            received.push((o.id, o.success));
        }
        let (due, sleep_ms) = {
            let mut am = am.lock();
            if !received.is_empty() {
                am.notified_all(received.drain(..));
            }
            let due = am.tick();
            let now = am.now();
            // tick() flushed everything due at `now`, so the next deadline is later.
            let sleep =
                am.next_deadline().map_or(MAX_SLEEP_MS, |d| (d - now).clamp(1, MAX_SLEEP_MS));
            (due, sleep)
        };
        for n in due {
            submit(n);
        }
        let sleep = Duration::from_millis(u64::try_from(sleep_ms).unwrap_or(1000));
        tokio::select! {
            Some(o) = outcomes.recv() => received.push((o.id, o.success)),
            _ = tokio::time::sleep(sleep) => {}
            _ = signals.wake.notified() => {}
            _ = signals.stop.notified() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Timelines on tokio's paused clock, which the core reads through [`TokioClock`]: every
    //! flush is submitted exactly when Alertmanager would send it.

    use std::sync::Arc;

    use alertmanager::{Clock, Config, Options, PostableAlert};
    use model::Labels;
    use tokio::time::Instant;

    use super::*;

    const T0: i64 = 1_800_000_000_000;

    /// Wall time that follows tokio's (paused) clock.
    struct TokioClock(Instant);

    impl Clock for TokioClock {
        fn now_ms(&self) -> i64 {
            T0 + i64::try_from(self.0.elapsed().as_millis()).unwrap_or(i64::MAX)
        }
    }

    fn core() -> Alertmanager {
        let yaml = "route: {receiver: hook, group_by: [g], group_wait: 1s, group_interval: 5s, repeat_interval: 1h}\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: http://127.0.0.1:9/\n";
        let cfg = Config::parse(yaml, "am.yml").unwrap();
        Alertmanager::new(cfg, Options::default(), Arc::new(TokioClock(Instant::now()))).unwrap()
    }

    fn alert(group: &str, instance: &str) -> PostableAlert {
        PostableAlert {
            labels: Labels::new([("alertname", "A"), ("g", group), ("instance", instance)]),
            ..Default::default()
        }
    }

    type Sent = Arc<Mutex<Vec<(i64, String, usize)>>>;

    /// Starts the driver; every submitted notification is recorded with the time (ms after
    /// T0) and answered as delivered at once.
    fn start(am: Arc<Mutex<Alertmanager>>, signals: Arc<Signals>) -> Sent {
        let sent: Sent = Arc::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let log = sent.clone();
        tokio::spawn(async move {
            let submit = |n: Notification| {
                let at = n.now - T0; // the core's flush time: submitted in the same step
                let group = n.group_labels.get("g").unwrap_or_default().to_string();
                log.lock().push((at, group, n.alerts.len()));
                let _ = tx.send(Outcome {
                    id: n.id,
                    receiver: n.receiver.clone(),
                    integration: "webhook",
                    success: true,
                    error: None,
                    attempts: 1,
                });
            };
            run(&am, &signals, &mut rx, submit).await;
        });
        sent
    }

    async fn at(start: Instant, ms: u64) {
        tokio::time::sleep_until(start + Duration::from_millis(ms)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn each_group_flushes_group_wait_after_its_first_alert_then_every_group_interval() {
        let t = Instant::now();
        let am = Arc::new(Mutex::new(core()));
        let signals = Arc::new(Signals::default());
        let sent = start(am.clone(), signals.clone());
        let push = |alerts: Vec<PostableAlert>| {
            am.lock().push(alerts);
            signals.wake.notify_one();
        };
        push(vec![alert("a", "1")]);
        at(t, 2).await; // due 2 ms after a: a coarse tick would flush it late
        push(vec![alert("b", "1")]);
        at(t, 700).await;
        push(vec![alert("a", "2")]); // joins a before its first flush
        at(t, 1_003).await;
        push(vec![alert("c", "1")]);
        at(t, 1_500).await;
        push(vec![alert("b", "2")]); // changes b after its first flush: sent at b's next interval
        at(t, 12_000).await;
        signals.stopped.store(true, Ordering::SeqCst);
        signals.stop.notify_one();
        let got = sent.lock().clone();
        let want = vec![
            (1_000, "a".to_string(), 2),
            (1_002, "b".to_string(), 1),
            (2_003, "c".to_string(), 1),
            (6_002, "b".to_string(), 2),
        ];
        assert_eq!(got, want);
    }

    #[tokio::test(start_paused = true)]
    async fn outcomes_are_recorded_so_unchanged_groups_are_not_resent() {
        let t = Instant::now();
        let am = Arc::new(Mutex::new(core()));
        let signals = Arc::new(Signals::default());
        let sent = start(am.clone(), signals.clone());
        am.lock().push((0..50).map(|i| alert(&format!("g{i}"), "1")).collect());
        signals.wake.notify_one();
        at(t, 20_000).await;
        signals.stopped.store(true, Ordering::SeqCst);
        signals.stop.notify_one();
        let got = sent.lock().clone();
        // One notification per group at group_wait; the flushes at 6 s, 11 s and 16 s find
        // the notification log written and send nothing.
        assert_eq!(got.len(), 50, "{got:?}");
        assert!(got.iter().all(|(at, _, n)| *at == 1_000 && *n == 1), "{got:?}");
    }
}
