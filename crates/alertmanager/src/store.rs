//! The alert store: every alert known, keyed by fingerprint, merged on update and garbage
//! collected once resolved (Alertmanager's in-memory alert provider).

use std::collections::HashMap;

use crate::alert::Alert;

/// Alerts by fingerprint.
#[derive(Debug, Default)]
pub struct AlertStore {
    alerts: HashMap<u64, Alert>,
}

impl AlertStore {
    /// Inserts an update, merging with the stored alert when their ranges overlap; returns
    /// the alert as stored.
    pub fn put(&mut self, fp: u64, alert: Alert, now: i64) -> &Alert {
        let merged = match self.alerts.get(&fp) {
            Some(old) if old.overlaps(&alert) => old.merge(&alert, now),
            _ => alert,
        };
        self.alerts.insert(fp, merged);
        &self.alerts[&fp]
    }

    /// Restores an alert as persisted.
    pub fn restore(&mut self, fp: u64, alert: Alert) {
        self.alerts.insert(fp, alert);
    }

    /// Replays a persisted refresh (times only) of a stored alert.
    pub fn refresh(
        &mut self,
        fp: u64,
        starts_at: i64,
        ends_at: i64,
        updated_at: i64,
        timeout: bool,
    ) {
        if let Some(a) = self.alerts.get_mut(&fp) {
            a.starts_at = starts_at;
            a.ends_at = ends_at;
            a.updated_at = updated_at;
            a.timeout = timeout;
        }
    }

    pub fn get(&self, fp: u64) -> Option<&Alert> {
        self.alerts.get(&fp)
    }

    pub fn remove(&mut self, fp: u64) -> Option<Alert> {
        self.alerts.remove(&fp)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u64, &Alert)> {
        self.alerts.iter()
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Fingerprints of alerts resolved at `now` (GC candidates).
    pub fn resolved(&self, now: i64) -> Vec<u64> {
        self.alerts.iter().filter(|(_, a)| a.resolved_at(now)).map(|(fp, _)| *fp).collect()
    }
}
