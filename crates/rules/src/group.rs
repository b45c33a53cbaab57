//! A rule group: its rules evaluated in order at one timestamp, as Prometheus' `rules/group.go`.
//!
//! One [`Group::eval`] is one iteration: each rule queries at `ts - query_offset`, its output
//! is appended and committed before the next rule runs (so later rules see it), alerts are
//! handed to the sink, series a rule produced last time but not now get a stale marker, and
//! the group's evaluation time and timestamps are recorded for the API.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use model::{Labels, Matcher};
use parking_lot::Mutex;
use storage::{Appendable, Queryable, StorageError};

use crate::RuleError;
use crate::alerting::AlertingRule;
use crate::metrics::{RuleMetrics, group_key};
use crate::recording::RecordingRule;
use crate::seams::{AlertSink, Clock, QueryFunc, QuerySample};

/// A rule's health as `/api/v1/rules` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RuleHealth {
    #[default]
    Unknown,
    Good,
    Bad,
}

impl RuleHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleHealth::Unknown => "unknown",
            RuleHealth::Good => "ok",
            RuleHealth::Bad => "err",
        }
    }
}

/// Everything a group needs from the outside, shared by all groups of a manager.
#[derive(Clone)]
pub struct GroupOptions {
    pub query: Arc<dyn QueryFunc>,
    pub appendable: Arc<dyn Appendable>,
    pub queryable: Arc<dyn Queryable>,
    pub sink: Arc<dyn AlertSink>,
    pub clock: Arc<dyn Clock>,
    pub external_labels: Labels,
    pub external_url: String,
    /// `--rules.alert.resend-delay` (1 m).
    pub resend_delay_ms: i64,
    /// `--rules.alert.for-outage-tolerance` (1 h).
    pub outage_tolerance_ms: i64,
    /// `--rules.alert.for-grace-period` (10 m).
    pub for_grace_period_ms: i64,
    /// `global.rule_query_offset` (0).
    pub default_query_offset_ms: i64,
}

/// A recording or alerting rule.
#[derive(Debug)]
pub enum Rule {
    Recording(RecordingRule),
    Alerting(AlertingRule),
}

impl Rule {
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => r.name(),
            Rule::Alerting(r) => r.name(),
        }
    }

    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Recording(r) => r.labels(),
            Rule::Alerting(r) => r.labels(),
        }
    }

    pub fn query(&self) -> &str {
        match self {
            Rule::Recording(r) => r.query(),
            Rule::Alerting(r) => r.query(),
        }
    }

    /// (health, last error, evaluation timestamp ms, evaluation duration s).
    pub fn status(&self) -> (RuleHealth, Option<String>, Option<i64>, f64) {
        match self {
            Rule::Recording(r) => {
                let s = r.state.lock();
                (s.health, s.last_error.clone(), s.eval_timestamp_ms, s.eval_duration_s)
            }
            Rule::Alerting(r) => {
                let s = r.state.lock();
                (s.health, s.last_error.clone(), s.eval_timestamp_ms, s.eval_duration_s)
            }
        }
    }

    fn set_result(&self, err: Option<String>, started_ms: i64, duration_s: f64) {
        let health = if err.is_some() { RuleHealth::Bad } else { RuleHealth::Good };
        macro_rules! set {
            ($s:expr) => {{
                let mut s = $s;
                s.health = health;
                s.last_error = err;
                s.eval_timestamp_ms = Some(started_ms);
                s.eval_duration_s = duration_s;
            }};
        }
        match self {
            Rule::Recording(r) => set!(r.state.lock()),
            Rule::Alerting(r) => set!(r.state.lock()),
        }
    }

    /// Identity used to carry state across reloads: name plus labels.
    fn identity(&self) -> String {
        format!("{}{}", self.name(), self.labels())
    }
}

#[derive(Debug, Default)]
struct GroupState {
    series_in_previous_eval: Vec<HashSet<Labels>>,
    stale_series: Vec<Labels>,
    evaluation_time_s: f64,
    last_evaluation_ms: Option<i64>,
    last_eval_timestamp_ms: Option<i64>,
}

/// A group of rules evaluated together.
pub struct Group {
    pub(crate) name: String,
    pub(crate) file: String,
    pub(crate) interval_ms: i64,
    pub(crate) limit: usize,
    pub(crate) query_offset_ms: Option<i64>,
    pub(crate) labels: Labels,
    pub(crate) rules: Vec<Rule>,
    pub(crate) opts: GroupOptions,
    state: Mutex<GroupState>,
    /// Serialises evaluations of this group.
    eval_lock: Mutex<()>,
    /// True if the rules do not read each other's outputs (see [`crate::deps`]).
    concurrent: bool,
    /// Where this group's metrics go (the manager's, or the group's own when built alone).
    metrics: Arc<RuleMetrics>,
    /// The `rule_group` label value.
    metrics_key: String,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group").field("name", &self.name).field("file", &self.file).finish()
    }
}

impl Group {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        file: &str,
        interval_ms: i64,
        limit: usize,
        query_offset_ms: Option<i64>,
        labels: Labels,
        rules: Vec<Rule>,
        opts: GroupOptions,
    ) -> Group {
        let n = rules.len();
        let concurrent = crate::deps::independent(&rules);
        let metrics = Arc::new(RuleMetrics::default());
        let metrics_key = group_key(file, name);
        metrics.register(&metrics_key, n, interval_ms);
        Group {
            name: name.to_string(),
            file: file.to_string(),
            interval_ms,
            limit,
            query_offset_ms,
            labels,
            rules,
            opts,
            state: Mutex::new(GroupState {
                series_in_previous_eval: vec![HashSet::new(); n],
                ..GroupState::default()
            }),
            eval_lock: Mutex::new(()),
            concurrent,
            metrics,
            metrics_key,
        }
    }

    /// Counts this group in `metrics` (the manager's) instead of its own.
    pub fn with_metrics(mut self, metrics: Arc<RuleMetrics>) -> Group {
        metrics.register(&self.metrics_key, self.rules.len(), self.interval_ms);
        self.metrics = metrics;
        self
    }

    /// The metrics this group counts in.
    pub fn metrics(&self) -> &Arc<RuleMetrics> {
        &self.metrics
    }

    /// The group's `rule_group` label value, `<file>;<name>`.
    pub fn metrics_key(&self) -> &str {
        &self.metrics_key
    }

    /// Counts scheduled iterations of the evaluation loop: one executed after `missed` ones
    /// skipped because the previous evaluation overran.
    pub(crate) fn count_iteration(&self, missed: u64) {
        self.metrics.update(&self.metrics_key, |g| {
            g.iterations += 1 + missed;
            g.iterations_missed += missed;
        });
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The group's query offset, or the manager's default.
    pub fn query_offset_ms(&self) -> i64 {
        self.query_offset_ms.unwrap_or(self.opts.default_query_offset_ms)
    }

    /// (evaluation time s, last evaluation wall time ms, last evaluation timestamp ms).
    pub fn eval_status(&self) -> (f64, Option<i64>, Option<i64>) {
        let s = self.state.lock();
        (s.evaluation_time_s, s.last_evaluation_ms, s.last_eval_timestamp_ms)
    }

    /// True if any rule is an alerting rule.
    pub fn has_alerting_rules(&self) -> bool {
        self.rules.iter().any(|r| matches!(r, Rule::Alerting(_)))
    }

    /// One evaluation iteration at `ts_ms`.
    pub fn eval(&self, ts_ms: i64) {
        let _guard = self.eval_lock.lock();
        let started_ms = self.opts.clock.now_ms();
        let started = Instant::now();
        let workers =
            std::thread::available_parallelism().map_or(1, |n| n.get()).min(self.rules.len());
        let samples = if self.concurrent && workers > 1 {
            self.eval_concurrently(ts_ms, workers)
        } else {
            self.rules.iter().enumerate().map(|(i, rule)| self.eval_rule(i, rule, ts_ms)).sum()
        };
        self.metrics.update(&self.metrics_key, |g| g.last_evaluation_samples = samples as f64);
        self.cleanup_stale_series(ts_ms);
        let elapsed = started.elapsed().as_secs_f64();
        self.metrics.observe_group_duration(self.opts.clock.now_ms(), elapsed);
        self.metrics.update(&self.metrics_key, |g| {
            g.last_duration_seconds = elapsed;
            g.last_evaluation_timestamp_seconds = started_ms as f64 / 1000.0;
        });
        let mut st = self.state.lock();
        st.evaluation_time_s = elapsed;
        st.last_evaluation_ms = Some(started_ms);
        st.last_eval_timestamp_ms = Some(ts_ms);
    }

    /// Evaluates independent rules on `workers` threads, each taking the next rule in order;
    /// returns the number of samples the rules returned.
    fn eval_concurrently(&self, ts: i64, workers: usize) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        let samples = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(rule) = self.rules.get(i) else { break };
                        samples.fetch_add(self.eval_rule(i, rule, ts), Ordering::Relaxed);
                    }
                });
            }
        });
        samples.into_inner()
    }

    /// Turns concurrent evaluation off (or back on where the rules allow it).
    pub fn with_concurrency(mut self, allowed: bool) -> Group {
        self.concurrent = allowed && crate::deps::independent(&self.rules);
        self
    }

    /// True if this group's rules are evaluated concurrently.
    pub fn is_concurrent(&self) -> bool {
        self.concurrent
    }

    /// Evaluates one rule; returns the number of samples it returned (0 on a query error).
    /// Counts the evaluation, and a failure if the query or the commit failed, as Prometheus.
    fn eval_rule(&self, i: usize, rule: &Rule, ts: i64) -> usize {
        let started_ms = self.opts.clock.now_ms();
        let started = Instant::now();
        self.metrics.update(&self.metrics_key, |g| g.evaluations += 1);
        let offset = self.query_offset_ms();
        let res = match rule {
            Rule::Recording(r) => r.eval(ts, offset, &self.opts.query, self.limit),
            Rule::Alerting(r) => r.eval(ts, offset, &self.opts.query, self.limit),
        };
        let vector = match res {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(group = %self.name, rule = rule.name(), err = %e, "evaluating rule failed");
                self.metrics.update(&self.metrics_key, |g| g.evaluation_failures += 1);
                self.rule_done(rule, Some(e.to_string()), started_ms, started);
                return 0;
            }
        };
        if let Rule::Alerting(r) = rule {
            let alerts = r.alerts_to_send(ts, self.opts.resend_delay_ms, self.interval_ms);
            if !alerts.is_empty() {
                self.opts.sink.send(alerts);
            }
        }
        let (err, commit_failed) = self.append(i, &vector, ts - offset);
        if commit_failed {
            self.metrics.update(&self.metrics_key, |g| g.evaluation_failures += 1);
        }
        self.rule_done(rule, err, started_ms, started);
        vector.len()
    }

    fn rule_done(&self, rule: &Rule, err: Option<String>, started_ms: i64, started: Instant) {
        let elapsed = started.elapsed().as_secs_f64();
        self.metrics.observe_rule_duration(self.opts.clock.now_ms(), elapsed);
        rule.set_result(err, started_ms, elapsed);
    }

    /// Appends a rule's output and stale markers for its vanished series, then commits.
    /// Returns the first error and whether it was the commit that failed.
    fn append(&self, i: usize, vector: &[QuerySample], stale_ts: i64) -> (Option<String>, bool) {
        let mut app = self.opts.appendable.appender();
        let mut returned: HashSet<Labels> = HashSet::with_capacity(vector.len());
        let mut first_err: Option<String> = None;
        for s in vector {
            match app.append(0, &s.labels, s.t, s.v) {
                Ok(_) => {
                    returned.insert(s.labels.clone());
                }
                Err(e) => {
                    if !is_ordering_error(&e) {
                        tracing::warn!(sample = %s.labels, err = %e, "rule evaluation result discarded");
                    }
                    first_err = Some(e.to_string());
                }
            }
        }
        let previous = std::mem::take(&mut self.state.lock().series_in_previous_eval[i]);
        for lset in previous.iter().filter(|l| !returned.contains(*l)) {
            let _ = app.append(0, lset, stale_ts, model::value::stale_nan());
        }
        match app.commit() {
            Ok(()) => {
                self.state.lock().series_in_previous_eval[i] = returned;
                (first_err, false)
            }
            Err(e) => {
                self.state.lock().series_in_previous_eval[i] = previous;
                (Some(e.to_string()), true)
            }
        }
    }

    fn cleanup_stale_series(&self, ts: i64) {
        let stale = std::mem::take(&mut self.state.lock().stale_series);
        if stale.is_empty() {
            return;
        }
        let mut app = self.opts.appendable.appender();
        let t = ts - self.query_offset_ms();
        for s in &stale {
            let _ = app.append(0, s, t, model::value::stale_nan());
        }
        if let Err(e) = app.commit() {
            tracing::warn!(err = %e, "stale sample appending for previous configuration failed");
            self.state.lock().stale_series = stale;
        }
    }

    /// Takes over alert state and series bookkeeping from the group this one replaces on a
    /// reload. Rules are matched by name and labels; series of rules that no longer exist are
    /// marked stale at the next evaluation.
    pub fn copy_state(&self, from: &Group) {
        let from_state = from.state.lock();
        let mut st = self.state.lock();
        st.evaluation_time_s = from_state.evaluation_time_s;
        st.last_evaluation_ms = from_state.last_evaluation_ms;
        let mut by_identity: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (fi, r) in from.rules.iter().enumerate() {
            by_identity.entry(r.identity()).or_default().push(fi);
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let Some(indexes) = by_identity.get_mut(&rule.identity()) else { continue };
            if indexes.is_empty() {
                continue;
            }
            let fi = indexes.remove(0);
            st.series_in_previous_eval[i] = from_state.series_in_previous_eval[fi].clone();
            if let (Rule::Alerting(ar), Rule::Alerting(far)) = (rule, &from.rules[fi]) {
                let from_active = far.state.lock().active.clone();
                ar.state.lock().active.extend(from_active);
            }
        }
        st.stale_series = from_state.stale_series.clone();
        for indexes in by_identity.values() {
            for &fi in indexes {
                st.stale_series.extend(from_state.series_in_previous_eval[fi].iter().cloned());
            }
        }
    }

    /// Marks every series the group produced as stale (the group was removed).
    pub fn mark_all_stale(&self, ts: i64) {
        {
            let mut st = self.state.lock();
            let all: Vec<Labels> =
                st.series_in_previous_eval.iter_mut().flat_map(std::mem::take).collect();
            st.stale_series.extend(all);
        }
        self.cleanup_stale_series(ts);
    }

    /// Restores the `for` state of pending alerts from `ALERTS_FOR_STATE`, as
    /// `Group.RestoreForState` (called after the first evaluations following a start).
    pub fn restore_for_state(&self, ts: i64) {
        let mint = ts - self.opts.outage_tolerance_ms;
        let q = match self.opts.queryable.querier(mint, ts) {
            Ok(q) => q,
            Err(e) => {
                tracing::error!(err = %e, "failed to get querier for restoring 'for' state");
                return;
            }
        };
        for rule in &self.rules {
            let Rule::Alerting(ar) = rule else { continue };
            if ar.hold_ms < self.opts.for_grace_period_ms {
                ar.set_restored(true);
                continue;
            }
            if let Err(e) = self.restore_rule(ar, q.as_ref(), ts) {
                tracing::error!(alertname = ar.name(), err = %e, "failed to restore 'for' state");
            }
            ar.set_restored(true);
        }
    }

    fn restore_rule(
        &self,
        ar: &AlertingRule,
        q: &dyn storage::Querier,
        ts: i64,
    ) -> Result<(), RuleError> {
        let matchers: Vec<Matcher> = ar
            .for_state_labels(None)
            .iter()
            .filter(|l| !l.value.contains("{{"))
            .map(|l| Matcher::equal(&l.name, &l.value))
            .collect();
        let mut last_by_labels = std::collections::HashMap::new();
        for series in q.select(false, None, &matchers)? {
            let mut series = series?;
            let mut last = None;
            while let Some(s) = series.samples.next() {
                last = Some(s);
            }
            if let Some(e) = series.samples.err() {
                return Err(e.into());
            }
            if let Some(s) = last {
                last_by_labels.insert(series.labels.without_metric_name(), s);
            }
        }
        if last_by_labels.is_empty() {
            return Ok(());
        }
        let hold = ar.hold_ms;
        let grace = self.opts.for_grace_period_ms;
        let mut st = ar.state.lock();
        for a in st.active.values_mut() {
            let Some(s) = last_by_labels.get(&a.labels) else { continue };
            if model::value::is_stale_nan(s.v) {
                continue;
            }
            let down_at = s.t.div_euclid(1000) * 1000;
            let mut restored_active_at = (s.v as i64) * 1000;
            let remaining = hold - (down_at - restored_active_at);
            if remaining <= 0 {
                // Was firing when the server went down; the next evaluation fires it again.
            } else if remaining < grace {
                restored_active_at = ts + grace - hold;
            } else {
                restored_active_at += ts - down_at;
            }
            a.active_at = Some(restored_active_at);
        }
        Ok(())
    }
}

fn is_ordering_error(e: &StorageError) -> bool {
    matches!(
        e,
        StorageError::OutOfOrderSample
            | StorageError::DuplicateSampleForTimestamp
            | StorageError::TooOldSample
    )
}
