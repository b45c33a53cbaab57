//! The notification log: what was last sent to each (group, receiver integration), the
//! source of truth for deduplication (Alertmanager's `nflog` and `DedupStage`).

use std::collections::HashMap;

/// Identifies one integration of one receiver for one aggregation group.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct NflogKey {
    pub group_key: String,
    pub receiver: String,
    pub integration: String,
    pub index: usize,
}

/// The last successful notification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NflogEntry {
    /// Sorted fingerprints of the firing alerts sent.
    pub firing: Vec<u64>,
    /// Sorted fingerprints of the resolved alerts sent.
    pub resolved: Vec<u64>,
    pub timestamp: i64,
    pub expires_at: i64,
}

fn is_subset(subset: &[u64], of: &[u64]) -> bool {
    subset.iter().all(|fp| of.binary_search(fp).is_ok())
}

/// Alertmanager's `DedupStage.needsUpdate`: whether a flush with these (sorted) firing and
/// resolved sets must be sent, given the last entry.
pub fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &[u64],
    resolved: &[u64],
    send_resolved: bool,
    repeat_interval_ms: i64,
    now: i64,
) -> bool {
    let Some(entry) = entry else { return !firing.is_empty() };
    if !is_subset(firing, &entry.firing) {
        return true;
    }
    // All alerts resolved: notify (whatever send_resolved says) so the log forgets them,
    // unless nothing firing was ever sent.
    if firing.is_empty() {
        return !entry.firing.is_empty();
    }
    if send_resolved && !is_subset(resolved, &entry.resolved) {
        return true;
    }
    entry.timestamp < now - repeat_interval_ms
}

/// All entries.
#[derive(Debug, Default)]
pub struct NotificationLog {
    entries: HashMap<NflogKey, NflogEntry>,
}

impl NotificationLog {
    pub fn get(&self, key: &NflogKey) -> Option<&NflogEntry> {
        self.entries.get(key)
    }

    pub fn log(&mut self, key: NflogKey, entry: NflogEntry) {
        self.entries.insert(key, entry);
    }

    /// Deletes expired entries; returns how many.
    pub fn gc(&mut self, now: i64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.expires_at > now);
        before - self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NflogKey, &NflogEntry)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(firing: &[u64], resolved: &[u64], ts: i64) -> NflogEntry {
        NflogEntry {
            firing: firing.to_vec(),
            resolved: resolved.to_vec(),
            timestamp: ts,
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn dedup_decisions() {
        assert!(needs_update(None, &[1], &[], true, 100, 0));
        assert!(!needs_update(None, &[], &[1], true, 100, 0));
        let e = entry(&[1, 2], &[], 1000);
        assert!(needs_update(Some(&e), &[1, 3], &[], true, 100, 1001), "new firing alert");
        assert!(
            !needs_update(Some(&e), &[1], &[2], false, 100, 1001),
            "resolve without send_resolved"
        );
        assert!(needs_update(Some(&e), &[1], &[2], true, 100, 1001), "resolve with send_resolved");
        assert!(needs_update(Some(&e), &[], &[1, 2], false, 100, 1001), "all resolved");
        assert!(!needs_update(Some(&entry(&[], &[1], 0)), &[], &[1], true, 100, 1001));
        assert!(!needs_update(Some(&e), &[1, 2], &[], true, 100, 1100), "within repeat");
        assert!(needs_update(Some(&e), &[1, 2], &[], true, 100, 1101), "repeat passed");
    }
}
