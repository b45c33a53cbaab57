//! What the core knows for Alertmanager 0.25's `/metrics`: alerts by state, alerts received
//! and rejected, silences by state, aggregation groups, receivers and integrations. A plain
//! snapshot; the HTTP layer renders it under Alertmanager's names.

use crate::PostableAlert;
use crate::manager::Alertmanager;
use crate::silence::SilenceState;
use crate::timefmt::is_zero;

/// Counters of alerts pushed (`alertmanager_alerts_received_total`,
/// `alertmanager_alerts_invalid_total`), counted as the API v2 counts them: every alert of a
/// push is firing or resolved by its end time after defaults, invalid ones are counted too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceivedCounters {
    pub firing: u64,
    pub resolved: u64,
    pub invalid: u64,
}

impl ReceivedCounters {
    /// Counts one pushed alert as firing (no end, or an end after `now`) or resolved.
    pub(crate) fn count(&mut self, p: &PostableAlert, now: i64) {
        match p.ends_at {
            Some(e) if !is_zero(e) && e <= now => self.resolved += 1,
            _ => self.firing += 1,
        }
    }
}

/// A snapshot of the core's metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreMetrics {
    /// Unresolved alerts neither silenced nor inhibited.
    pub alerts_active: u64,
    /// Unresolved alerts silenced or inhibited.
    pub alerts_suppressed: u64,
    /// Always 0: alerts are routed as they arrive, never waiting unprocessed.
    pub alerts_unprocessed: u64,
    pub received: ReceivedCounters,
    pub silences_active: u64,
    pub silences_pending: u64,
    pub silences_expired: u64,
    pub aggregation_groups: u64,
    pub receivers: u64,
    /// Configured integrations over all receivers.
    pub integrations: u64,
    /// Integration kinds the configuration uses (`webhook`, `email`, ...), sorted, unique.
    pub integration_kinds: Vec<&'static str>,
}

impl Alertmanager {
    /// The values of the core's families at the clock's now.
    pub fn metrics(&self) -> CoreMetrics {
        let now = self.now();
        let mut m = CoreMetrics { received: self.received, ..Default::default() };
        for (_, a) in self.store.iter() {
            if a.resolved_at(now) {
                continue;
            }
            let muted = self.inhibitor.mutes(&a.labels, now).is_some()
                || !self.silences.mutes(&a.labels, now).is_empty();
            if muted {
                m.alerts_suppressed += 1;
            } else {
                m.alerts_active += 1;
            }
        }
        for s in self.silences.iter() {
            match s.state(now) {
                SilenceState::Active => m.silences_active += 1,
                SilenceState::Pending => m.silences_pending += 1,
                SilenceState::Expired => m.silences_expired += 1,
            }
        }
        m.aggregation_groups = self.dispatcher.len() as u64;
        let receivers = &self.compiled.receivers;
        m.receivers = self.compiled.config.receivers.len() as u64;
        m.integrations = receivers.values().map(|v| v.len() as u64).sum();
        let mut kinds: Vec<&'static str> =
            receivers.values().flatten().map(|(_, i)| i.kind()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        m.integration_kinds = kinds;
        m
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use model::Labels;

    use crate::silence::{Silence, SilenceMatcher};
    use crate::{Config, ManualClock, Options};

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn alert(name: &str, ends_at: Option<i64>) -> PostableAlert {
        PostableAlert { labels: Labels::new([("alertname", name)]), ends_at, ..Default::default() }
    }

    #[test]
    fn counts_alerts_silences_and_configuration() {
        let yaml = "route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'http://127.0.0.1:9/'}, {url: 'http://127.0.0.1:8/'}]\n- name: b\n  slack_configs: [{api_url: 'http://127.0.0.1:7/', channel: x}]\n- name: c\n";
        let cfg = Config::parse(yaml, "am.yml").unwrap();
        let clock = Arc::new(ManualClock::new(NOW));
        let mut am = Alertmanager::new(cfg, Options::default(), clock).unwrap();
        let report = am.push(vec![
            alert("Firing", None),
            alert("Silenced", Some(NOW + 60_000)),
            alert("Resolved", Some(NOW - 1)),
            PostableAlert::default(),
        ]);
        assert_eq!(report.rejected.len(), 1);
        let matcher = |v: &str| SilenceMatcher {
            name: "alertname".into(),
            value: v.into(),
            is_regex: false,
            is_equal: true,
        };
        let silence = |v: &str, starts_at: i64, ends_at: i64| Silence {
            id: String::new(),
            matchers: vec![matcher(v)],
            starts_at,
            ends_at,
            updated_at: 0,
            created_by: "me".into(),
            comment: "c".into(),
        };
        am.set_silence(silence("Silenced", NOW, NOW + 3_600_000)).unwrap();
        am.set_silence(silence("Later", NOW + 60_000, NOW + 3_600_000)).unwrap();
        let m = am.metrics();
        let received = ReceivedCounters { firing: 3, resolved: 1, invalid: 1 };
        assert_eq!(m.received, received, "the invalid alert (no end) counts as firing too");
        assert_eq!((m.alerts_active, m.alerts_suppressed, m.alerts_unprocessed), (1, 1, 0));
        assert_eq!((m.silences_active, m.silences_pending, m.silences_expired), (1, 1, 0));
        assert_eq!((m.receivers, m.integrations), (3, 3));
        assert_eq!(m.integration_kinds, vec!["slack", "webhook"]);
    }
}
