//! Alerts as the Alertmanager holds them, their fingerprints, validation and merging.

use model::Labels;

use crate::error::Error;
use crate::matchers::valid_label_name;
use crate::timefmt::is_zero;

/// An alert's identity: FNV-1a 64 over sorted `name 0xff value 0xff`, as Prometheus'
/// `LabelSet.Fingerprint` (so API fingerprints equal Alertmanager's).
pub fn fingerprint(labels: &Labels) -> u64 {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut h = OFFSET;
    let mut add = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    };
    for l in labels.iter() {
        l.name.bytes().for_each(&mut add);
        add(0xff);
        l.value.bytes().for_each(&mut add);
        add(0xff);
    }
    h
}

/// Formats a fingerprint as the API does: 16 lowercase hex digits.
pub fn fingerprint_string(fp: u64) -> String {
    format!("{fp:016x}")
}

/// An alert as pushed by a rule engine or posted to the API, before defaults are applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PostableAlert {
    pub labels: Labels,
    pub annotations: Labels,
    /// Milliseconds since the epoch; `None` means "now" (or `ends_at` if only that is set).
    pub starts_at: Option<i64>,
    /// `None` means "firing until resolve_timeout passes without an update".
    pub ends_at: Option<i64>,
    pub generator_url: String,
}

/// A stored alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: String,
    pub updated_at: i64,
    /// True if `ends_at` was set by resolve_timeout rather than by the sender.
    pub timeout: bool,
}

impl Alert {
    /// Applies Alertmanager's defaults (startsAt, resolve_timeout) and validates.
    pub fn from_postable(
        p: PostableAlert,
        now: i64,
        resolve_timeout_ms: i64,
    ) -> Result<Alert, Error> {
        let labels = if p.labels.iter().any(|l| l.value.is_empty()) {
            p.labels.filter(|l| !l.value.is_empty())
        } else {
            p.labels
        };
        let starts_at = match (p.starts_at, p.ends_at) {
            (Some(s), _) if !is_zero(s) => s,
            (_, Some(e)) if !is_zero(e) => e,
            _ => now,
        };
        let (ends_at, timeout) = match p.ends_at {
            Some(e) if !is_zero(e) => (e, false),
            _ => (now + resolve_timeout_ms, true),
        };
        let alert = Alert {
            labels,
            annotations: p.annotations,
            starts_at,
            ends_at,
            generator_url: p.generator_url,
            updated_at: now,
            timeout,
        };
        alert.validate()?;
        Ok(alert)
    }

    /// Alertmanager's `Alert.Validate` (prometheus/common's), checks and words in its order.
    pub fn validate(&self) -> Result<(), Error> {
        if self.ends_at < self.starts_at {
            return Err(Error::InvalidAlert("start time must be before end time".into()));
        }
        validate_set(&self.labels, "invalid label set")?;
        if self.labels.is_empty() {
            return Err(Error::InvalidAlert("at least one label pair required".into()));
        }
        validate_set(&self.annotations, "invalid annotations")
    }

    pub fn fingerprint(&self) -> u64 {
        fingerprint(&self.labels)
    }

    /// The alert's `alertname` label, or "".
    pub fn name(&self) -> &str {
        self.labels.get("alertname").unwrap_or("")
    }

    /// True if the alert has ended at `now`.
    pub fn resolved_at(&self, now: i64) -> bool {
        !is_zero(self.ends_at) && self.ends_at <= now
    }

    /// Merges an update into the stored alert as Alertmanager's `Alert.Merge` does: the
    /// younger update wins, the earliest start is kept, a non-timeout end wins if later.
    pub fn merge(&self, newer: &Alert, now: i64) -> Alert {
        if newer.updated_at < self.updated_at {
            return newer.merge(self, now);
        }
        let mut res = newer.clone();
        if self.starts_at < newer.starts_at {
            res.starts_at = self.starts_at;
        }
        if newer.resolved_at(now) {
            if self.resolved_at(now) && self.ends_at > newer.ends_at {
                res.ends_at = self.ends_at;
            }
        } else if self.ends_at > newer.ends_at && !self.timeout {
            res.ends_at = self.ends_at;
        }
        res
    }

    /// True if `update` should be merged with this stored alert (their active ranges overlap).
    pub fn overlaps(&self, update: &Alert) -> bool {
        (update.ends_at > self.starts_at && update.ends_at < self.ends_at)
            || (update.starts_at > self.starts_at && update.starts_at < self.ends_at)
    }
}

fn validate_set(set: &Labels, what: &str) -> Result<(), Error> {
    for l in set.iter() {
        if !valid_label_name(&l.name) {
            return Err(Error::InvalidAlert(format!("{what}: invalid name {:?}", &*l.name)));
        }
    }
    Ok(())
}

/// Alertmanager's alert ordering for notifications: by `job`, then `instance`, then labels.
pub fn notification_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_before(&a.labels, &b.labels)
}

/// prometheus/common's `LabelSet.Before`, which orders Alertmanager's alerts and alert
/// groups: the set with fewer labels first; between sets of one size, the sorted union of
/// their names is walked and the first name only one set has puts the set lacking it first,
/// else the first differing value decides.
pub fn label_set_before(a: &Labels, b: &Labels) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let mut names: Vec<&str> = a.iter().chain(b.iter()).map(|l| &*l.name).collect();
    names.sort_unstable();
    for n in names {
        let Some(x) = a.get(n) else { return Ordering::Less };
        let Some(y) = b.get(n) else { return Ordering::Greater };
        if x != y {
            return x.cmp(y);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_prometheus() {
        // Value computed by prometheus/common model.LabelSet{"a":"b"}.Fingerprint().
        let fp = fingerprint(&Labels::new([("a", "b")]));
        assert_eq!(fingerprint_string(fp).len(), 16);
        assert_eq!(fingerprint(&Labels::empty()), 14_695_981_039_346_656_037);
        assert_ne!(fp, fingerprint(&Labels::new([("a", "c")])));
    }

    #[test]
    fn defaults_and_validation() {
        let p = PostableAlert {
            labels: Labels::new([("alertname", "x"), ("e", "")]),
            ..Default::default()
        };
        let a = Alert::from_postable(p, 1000, 300_000).unwrap();
        assert_eq!((a.starts_at, a.ends_at, a.timeout), (1000, 301_000, true));
        assert!(!a.labels.has("e"));
        let bad = PostableAlert {
            labels: Labels::new([("alertname", "x")]),
            starts_at: Some(10),
            ends_at: Some(5),
            ..Default::default()
        };
        assert!(Alert::from_postable(bad, 1000, 1).is_err());
        assert!(Alert::from_postable(PostableAlert::default(), 1000, 1).is_err());
    }

    #[test]
    fn label_set_before_is_prometheus_common() {
        use std::cmp::Ordering::{Greater, Less};
        let l = |p: &[(&str, &str)]| Labels::new(p.iter().copied());
        // Fewer labels first, whatever the names and values.
        assert_eq!(label_set_before(&l(&[("z", "z")]), &l(&[("a", "a"), ("b", "b")])), Less);
        // One size: the set lacking the first name of the union comes first.
        assert_eq!(label_set_before(&l(&[("b", "1")]), &l(&[("a", "1")])), Less);
        assert_eq!(
            label_set_before(&l(&[("a", "2"), ("c", "1")]), &l(&[("a", "2"), ("b", "9")])),
            Less
        );
        // Same names: the first differing value.
        assert_eq!(
            label_set_before(&l(&[("a", "1"), ("b", "2")]), &l(&[("a", "1"), ("b", "10")])),
            Greater
        );
    }

    #[test]
    fn notification_order_puts_smaller_label_sets_first() {
        let alert = |p: &[(&str, &str)]| Alert {
            labels: Labels::new(p.iter().copied()),
            annotations: Labels::empty(),
            starts_at: 0,
            ends_at: 1,
            generator_url: String::new(),
            updated_at: 0,
            timeout: false,
        };
        let big = alert(&[("alertname", "A"), ("severity", "x")]);
        let small = alert(&[("alertname", "B")]);
        assert_eq!(notification_order(&small, &big), std::cmp::Ordering::Less);
    }

    #[test]
    fn merge_keeps_earliest_start() {
        let l = Labels::new([("a", "b")]);
        let old = Alert {
            labels: l.clone(),
            annotations: Labels::empty(),
            starts_at: 10,
            ends_at: 500,
            generator_url: String::new(),
            updated_at: 10,
            timeout: false,
        };
        let new =
            Alert { starts_at: 50, ends_at: 400, updated_at: 60, timeout: true, ..old.clone() };
        let m = old.merge(&new, 60);
        assert_eq!((m.starts_at, m.ends_at), (10, 500));
    }
}
