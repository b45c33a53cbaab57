//! The notification pipeline run for each flush of an aggregation group, as stages:
//! mute (inhibition, time intervals, silences) -> per integration: dedup -> send.
//!
//! Sending happens outside the core: a flush yields [`Notification`]s; the driver delivers
//! them and reports back with [`crate::Alertmanager::notified`], which writes the
//! notification log (Alertmanager's `SetNotifiesStage`).

use std::collections::BTreeMap;
use std::sync::Arc;

use model::Labels;

use crate::alert::Alert;
use crate::config::{Integration, TimeInterval};
use crate::inhibit::Inhibitor;
use crate::nflog::{NflogKey, NotificationLog, needs_update};
use crate::silence::Silences;

/// Anything that can mute an alert: silences and inhibition rules.
pub trait Muter {
    /// True if the alert with `labels` is muted at `now`.
    fn mutes(&self, labels: &Labels, now: i64) -> bool;
}

impl Muter for Silences {
    fn mutes(&self, labels: &Labels, now: i64) -> bool {
        !Silences::mutes(self, labels, now).is_empty()
    }
}

impl Muter for Inhibitor {
    fn mutes(&self, labels: &Labels, now: i64) -> bool {
        Inhibitor::mutes(self, labels, now).is_some()
    }
}

/// The mute stage: drops alerts a muter mutes.
pub fn mute_stage(muter: &dyn Muter, alerts: Vec<Alert>, now: i64) -> Vec<Alert> {
    alerts.into_iter().filter(|a| !muter.mutes(&a.labels, now)).collect()
}

/// The time stages: whether a route may notify at `now` given its active and mute intervals.
pub fn time_allows(
    active: &[String],
    mute: &[String],
    intervals: &BTreeMap<String, Vec<TimeInterval>>,
    now: i64,
) -> bool {
    let in_named =
        |name: &String| intervals.get(name).is_some_and(|l| l.iter().any(|ti| ti.contains(now)));
    if !active.is_empty() && !active.iter().any(in_named) {
        return false;
    }
    !mute.iter().any(in_named)
}

/// One message to deliver through one integration.
#[derive(Clone, Debug)]
pub struct Notification {
    pub id: u64,
    pub receiver: String,
    pub integration: Arc<Integration>,
    pub integration_index: usize,
    pub group_key: String,
    pub group_labels: Labels,
    /// The alerts to send, in notification order; firing ones have Go's zero `ends_at`.
    pub alerts: Vec<Alert>,
    /// When the flush happened.
    pub now: i64,
    /// Retries should stop at this time (the next flush takes over).
    pub deadline: i64,
    pub(crate) firing: Vec<u64>,
}

impl Notification {
    /// "firing" if any alert is firing, else "resolved".
    pub fn status(&self) -> &'static str {
        if self.firing.is_empty() { "resolved" } else { "firing" }
    }
}

/// What the dedup stage decided for one integration.
pub(crate) enum Decision {
    /// Nothing changed: send nothing.
    Skip,
    /// Log as sent without sending (resolved-only flush with send_resolved off).
    LogOnly(NflogKey, Vec<u64>, Vec<u64>),
    /// Send these alerts.
    Send(NflogKey, Vec<u64>, Vec<u64>, Vec<Alert>),
}

/// The dedup stage for one integration.
pub(crate) fn dedup_stage(
    nflog: &NotificationLog,
    key: NflogKey,
    integration: &Integration,
    alerts: &[Alert],
    repeat_interval_ms: i64,
    now: i64,
) -> Decision {
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    for a in alerts {
        if a.resolved_at(now) {
            resolved.push(a.fingerprint())
        } else {
            firing.push(a.fingerprint())
        }
    }
    firing.sort_unstable();
    resolved.sort_unstable();
    let send_resolved = integration.send_resolved();
    if !needs_update(nflog.get(&key), &firing, &resolved, send_resolved, repeat_interval_ms, now) {
        return Decision::Skip;
    }
    if !send_resolved {
        if firing.is_empty() {
            return Decision::LogOnly(key, firing, resolved);
        }
        let sent = alerts.iter().filter(|a| !a.resolved_at(now)).cloned().collect();
        return Decision::Send(key, firing, resolved, sent);
    }
    Decision::Send(key, firing, resolved, alerts.to_vec())
}
