//! Inhibition: a firing source alert mutes target alerts that agree on the `equal` labels.
//!
//! Each rule keeps a cache of the alerts matching its source side, fed by the alert store
//! ([`Inhibitor::observe`]); resolved cache entries never inhibit, as in Alertmanager.

use std::collections::HashMap;

use model::Labels;

use crate::alert::{Alert, fingerprint};
use crate::config::InhibitRuleConfig;
use crate::error::Error;
use crate::matchers::Matchers;
use crate::route::legacy_and_new_matchers;

/// One compiled `inhibit_rules` entry with its source-alert cache.
#[derive(Clone, Debug)]
pub struct InhibitRule {
    pub source: Matchers,
    pub target: Matchers,
    pub equal: Vec<String>,
    sources: HashMap<u64, (Labels, i64)>,
}

impl InhibitRule {
    pub fn build(c: &InhibitRuleConfig) -> Result<InhibitRule, Error> {
        Ok(InhibitRule {
            source: legacy_and_new_matchers(
                &c.source_match,
                &c.source_match_re,
                &c.source_matchers,
            )?,
            target: legacy_and_new_matchers(
                &c.target_match,
                &c.target_match_re,
                &c.target_matchers,
            )?,
            equal: c.equal.clone(),
            sources: HashMap::new(),
        })
    }

    /// The fingerprint of a firing source alert inhibiting `labels`, if any.
    fn inhibiting(&self, labels: &Labels, now: i64) -> Option<u64> {
        if !self.target.matches(labels) {
            return None;
        }
        let exclude_two_sided = self.source.matches(labels);
        let mut found: Option<u64> = None;
        for (fp, (src, ends_at)) in &self.sources {
            if *ends_at <= now {
                continue;
            }
            if !self.equal.iter().all(|n| src.get(n).unwrap_or("") == labels.get(n).unwrap_or("")) {
                continue;
            }
            if exclude_two_sided && self.target.matches(src) {
                continue;
            }
            // Deterministic choice among several inhibitors: the smallest fingerprint.
            found = Some(found.map_or(*fp, |f| f.min(*fp)));
        }
        found
    }
}

/// All inhibition rules.
#[derive(Clone, Debug, Default)]
pub struct Inhibitor {
    rules: Vec<InhibitRule>,
}

impl Inhibitor {
    pub fn new(rules: Vec<InhibitRule>) -> Inhibitor {
        Inhibitor { rules }
    }

    pub fn from_config(cfgs: &[InhibitRuleConfig]) -> Result<Inhibitor, Error> {
        Ok(Inhibitor::new(cfgs.iter().map(InhibitRule::build).collect::<Result<_, _>>()?))
    }

    /// Records a stored alert in the source caches of the rules it matches.
    pub fn observe(&mut self, alert: &Alert) {
        for r in &mut self.rules {
            if r.source.matches(&alert.labels) {
                r.sources.insert(fingerprint(&alert.labels), (alert.labels.clone(), alert.ends_at));
            }
        }
    }

    /// Drops a garbage-collected alert from the caches.
    pub fn forget(&mut self, fp: u64) {
        for r in &mut self.rules {
            r.sources.remove(&fp);
        }
    }

    /// The fingerprint of the alert that inhibits `labels` at `now`, if any.
    pub fn mutes(&self, labels: &Labels, now: i64) -> Option<u64> {
        self.rules.iter().find_map(|r| r.inhibiting(labels, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(pairs: &[(&str, &str)], ends_at: i64) -> Alert {
        Alert {
            labels: Labels::new(pairs.iter().copied()),
            annotations: Labels::empty(),
            starts_at: 0,
            ends_at,
            generator_url: String::new(),
            updated_at: 0,
            timeout: false,
        }
    }

    fn inhibitor() -> Inhibitor {
        let c: InhibitRuleConfig = serde_saphyr::from_str(
            "source_matchers: ['severity=\"critical\"']\ntarget_matchers: ['severity=\"warning\"']\nequal: [cluster]",
        )
        .unwrap();
        Inhibitor::from_config(&[c]).unwrap()
    }

    #[test]
    fn firing_source_with_equal_labels_inhibits() {
        let mut ih = inhibitor();
        let src = alert(&[("alertname", "Down"), ("severity", "critical"), ("cluster", "a")], 100);
        ih.observe(&src);
        let target =
            Labels::new([("alertname", "Slow"), ("severity", "warning"), ("cluster", "a")]);
        assert_eq!(ih.mutes(&target, 50), Some(src.fingerprint()));
        let other = Labels::new([("alertname", "Slow"), ("severity", "warning"), ("cluster", "b")]);
        assert_eq!(ih.mutes(&other, 50), None);
        // Once the source has ended it no longer inhibits.
        assert_eq!(ih.mutes(&target, 100), None);
    }
}
