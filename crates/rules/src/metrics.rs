//! The rule manager's own metrics, as Prometheus' `rules.Metrics`: per-group counters and
//! gauges labelled `rule_group="<file>;<name>"`, and two unlabelled summaries (rule and group
//! evaluation durations).
//!
//! This module only counts; rendering for `/metrics` is the server's job (see
//! [`RuleMetrics::snapshot`]). A group's series exist from the moment the group is built by the
//! manager until a reload removes it; updates for a group that is no longer registered (an
//! evaluation still in flight when its group was removed) are dropped, so removed groups do not
//! come back.

use std::collections::{BTreeMap, VecDeque};

use parking_lot::Mutex;

/// Quantiles of `prometheus_rule_evaluation_duration_seconds`.
pub const RULE_DURATION_QUANTILES: &[f64] = &[0.5, 0.9, 0.99];
/// Quantiles of `prometheus_rule_group_duration_seconds`.
pub const GROUP_DURATION_QUANTILES: &[f64] = &[0.01, 0.05, 0.5, 0.9, 0.99];

/// How long an observation counts towards the quantiles (client_golang's `DefMaxAge`).
const SUMMARY_MAX_AGE_MS: i64 = 10 * 60 * 1000;
/// At most this many recent observations are kept for the quantiles.
const SUMMARY_MAX_OBSERVATIONS: usize = 8192;

/// Prometheus' `GroupKey`: the `rule_group` label value.
pub fn group_key(file: &str, name: &str) -> String {
    format!("{file};{name}")
}

/// The per-group series, all labelled `rule_group`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSeries {
    /// `prometheus_rule_group_iterations_missed_total`.
    pub iterations_missed: u64,
    /// `prometheus_rule_group_iterations_total` (executed or missed).
    pub iterations: u64,
    /// `prometheus_rule_evaluations_total`.
    pub evaluations: u64,
    /// `prometheus_rule_evaluation_failures_total`.
    pub evaluation_failures: u64,
    /// `prometheus_rule_group_interval_seconds`.
    pub interval_seconds: f64,
    /// `prometheus_rule_group_last_evaluation_timestamp_seconds` (0 before the first).
    pub last_evaluation_timestamp_seconds: f64,
    /// `prometheus_rule_group_last_duration_seconds`.
    pub last_duration_seconds: f64,
    /// `prometheus_rule_group_rules`.
    pub rules: f64,
    /// `prometheus_rule_group_last_evaluation_samples`.
    pub last_evaluation_samples: f64,
}

/// A summary's state at one instant: (quantile, value) pairs (NaN with no recent
/// observations), the sum and the count of all observations.
#[derive(Debug, Clone, PartialEq)]
pub struct SummarySnapshot {
    pub quantiles: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: u64,
}

/// A summary over a sliding window of recent observations.
#[derive(Debug)]
struct Summary {
    quantiles: &'static [f64],
    window: VecDeque<(i64, f64)>,
    sum: f64,
    count: u64,
}

impl Summary {
    fn new(quantiles: &'static [f64]) -> Summary {
        Summary { quantiles, window: VecDeque::new(), sum: 0.0, count: 0 }
    }

    fn expire(&mut self, now_ms: i64) {
        while self.window.front().is_some_and(|(t, _)| now_ms - t > SUMMARY_MAX_AGE_MS) {
            self.window.pop_front();
        }
        while self.window.len() > SUMMARY_MAX_OBSERVATIONS {
            self.window.pop_front();
        }
    }

    fn observe(&mut self, now_ms: i64, v: f64) {
        self.sum += v;
        self.count += 1;
        self.window.push_back((now_ms, v));
        self.expire(now_ms);
    }

    fn snapshot(&mut self, now_ms: i64) -> SummarySnapshot {
        self.expire(now_ms);
        let mut values: Vec<f64> = self.window.iter().map(|(_, v)| *v).collect();
        values.sort_by(f64::total_cmp);
        let quantiles = self.quantiles.iter().map(|&q| (q, rank_quantile(&values, q))).collect();
        SummarySnapshot { quantiles, sum: self.sum, count: self.count }
    }
}

/// The observation of rank `ceil(q * n)` in `sorted`, NaN if empty.
fn rank_quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Everything `/metrics` shows about rules at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMetricsSnapshot {
    /// By `rule_group` label value, sorted.
    pub groups: BTreeMap<String, GroupSeries>,
    /// `prometheus_rule_evaluation_duration_seconds`.
    pub rule_duration: SummarySnapshot,
    /// `prometheus_rule_group_duration_seconds`.
    pub group_duration: SummarySnapshot,
}

#[derive(Debug)]
struct Inner {
    groups: BTreeMap<String, GroupSeries>,
    rule_duration: Summary,
    group_duration: Summary,
}

/// The metrics of all groups of one manager.
#[derive(Debug)]
pub struct RuleMetrics {
    inner: Mutex<Inner>,
}

impl Default for RuleMetrics {
    fn default() -> RuleMetrics {
        RuleMetrics {
            inner: Mutex::new(Inner {
                groups: BTreeMap::new(),
                rule_duration: Summary::new(RULE_DURATION_QUANTILES),
                group_duration: Summary::new(GROUP_DURATION_QUANTILES),
            }),
        }
    }
}

impl RuleMetrics {
    /// Creates a group's series if missing (counters of a group replaced by a reload keep
    /// counting) and sets its rule count and interval, as `NewGroup` does.
    pub fn register(&self, key: &str, rules: usize, interval_ms: i64) {
        let mut inner = self.inner.lock();
        let g = inner.groups.entry(key.to_string()).or_default();
        g.rules = rules as f64;
        g.interval_seconds = interval_ms as f64 / 1000.0;
    }

    /// Deletes a removed group's series.
    pub fn delete(&self, key: &str) {
        self.inner.lock().groups.remove(key);
    }

    /// Updates a registered group's series; does nothing for unknown groups.
    pub fn update(&self, key: &str, f: impl FnOnce(&mut GroupSeries)) {
        if let Some(g) = self.inner.lock().groups.get_mut(key) {
            f(g);
        }
    }

    /// One rule evaluation took `seconds`.
    pub fn observe_rule_duration(&self, now_ms: i64, seconds: f64) {
        self.inner.lock().rule_duration.observe(now_ms, seconds);
    }

    /// One group evaluation took `seconds`.
    pub fn observe_group_duration(&self, now_ms: i64, seconds: f64) {
        self.inner.lock().group_duration.observe(now_ms, seconds);
    }

    /// The current values; quantiles over the observations of the last 10 minutes.
    pub fn snapshot(&self, now_ms: i64) -> RuleMetricsSnapshot {
        let mut inner = self.inner.lock();
        RuleMetricsSnapshot {
            groups: inner.groups.clone(),
            rule_duration: inner.rule_duration.snapshot(now_ms),
            group_duration: inner.group_duration.snapshot(now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_groups_are_not_recreated_by_updates() {
        let m = RuleMetrics::default();
        m.register("f.yml;g", 3, 15_000);
        m.update("f.yml;g", |g| g.evaluations += 3);
        m.delete("f.yml;g");
        m.update("f.yml;g", |g| g.evaluations += 1);
        assert!(m.snapshot(0).groups.is_empty());
    }

    #[test]
    fn reregistering_keeps_counters() {
        let m = RuleMetrics::default();
        m.register("f.yml;g", 3, 15_000);
        m.update("f.yml;g", |g| g.iterations += 2);
        m.register("f.yml;g", 1, 30_000);
        let s = &m.snapshot(0).groups["f.yml;g"];
        assert_eq!((s.iterations, s.rules, s.interval_seconds), (2, 1.0, 30.0));
    }

    #[test]
    fn summary_quantiles_cover_recent_observations_only() {
        let m = RuleMetrics::default();
        assert!(m.snapshot(0).rule_duration.quantiles.iter().all(|(_, v)| v.is_nan()));
        for i in 1..=100 {
            m.observe_rule_duration(0, f64::from(i));
        }
        let s = m.snapshot(0).rule_duration;
        assert_eq!(s.quantiles, vec![(0.5, 50.0), (0.9, 90.0), (0.99, 99.0)]);
        assert_eq!((s.sum, s.count), (5050.0, 100));
        m.observe_rule_duration(SUMMARY_MAX_AGE_MS + 1, 7.0);
        let s = m.snapshot(SUMMARY_MAX_AGE_MS + 1).rule_duration;
        assert_eq!(s.quantiles[0], (0.5, 7.0));
        assert_eq!(s.count, 101, "the count is cumulative");
    }
}
