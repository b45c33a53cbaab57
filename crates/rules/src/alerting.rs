//! Alerting rules and the alert state machine, as Prometheus' `rules/alerting.go`.
//!
//! Per evaluation: each result sample becomes an alert identified by its labels (the
//! sample's labels without `__name__`, plus the rule's expanded labels and `alertname`).
//! New alerts start pending; a pending alert fires once active for `for`; an alert missing
//! from the result resolves (a pending one is dropped) unless it fired and is within
//! `keep_firing_for`; resolved alerts are kept (and resent) for 15 minutes. `ALERTS` and
//! `ALERTS_FOR_STATE` samples are produced for every pending and firing alert once the rule
//! has been restored.

use std::collections::BTreeMap;
use std::sync::Arc;

use model::Labels;
use parking_lot::Mutex;

use crate::RuleError;
use crate::group::RuleHealth;
use crate::seams::{Alert, QueryFunc, QuerySample};
use crate::template::{self, FuncContext};

/// How long a resolved alert is kept and resent.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// The state of one alert (or, for a rule, the maximum over its alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    /// The rule has not been evaluated yet (rule-level only).
    Unknown,
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Unknown => "unknown",
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert instance. Times are ms; `None` is Go's zero time.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAlert {
    pub state: AlertState,
    pub labels: Labels,
    pub annotations: Labels,
    pub value: f64,
    pub active_at: Option<i64>,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub keep_firing_since: Option<i64>,
}

impl ActiveAlert {
    fn needs_sending(&self, ts: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if let Some(r) = self.resolved_at
            && self.last_sent_at.is_none_or(|l| r > l)
        {
            return true;
        }
        self.last_sent_at.is_none_or(|l| l + resend_delay_ms < ts)
    }
}

#[derive(Debug)]
pub(crate) struct AlertingState {
    pub active: BTreeMap<Labels, ActiveAlert>,
    pub restored: bool,
    pub health: RuleHealth,
    pub last_error: Option<String>,
    pub eval_timestamp_ms: Option<i64>,
    pub eval_duration_s: f64,
}

/// An alerting rule and its alerts.
#[derive(Debug)]
pub struct AlertingRule {
    pub(crate) name: String,
    /// The expression as Prometheus prints it.
    pub(crate) expr: String,
    pub(crate) hold_ms: i64,
    pub(crate) keep_firing_for_ms: i64,
    pub(crate) labels: Labels,
    pub(crate) annotations: Labels,
    pub(crate) external_labels: Labels,
    pub(crate) external_url: String,
    pub(crate) state: Mutex<AlertingState>,
    /// Label templates then annotation templates, parsed once.
    templates: template::AlertTemplates,
}

/// Seconds since the epoch of a ms timestamp, floored (Go's `Time.Unix()`).
fn unix_seconds(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

impl AlertingRule {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        expr: &str,
        hold_ms: i64,
        keep_firing_for_ms: i64,
        labels: Labels,
        annotations: Labels,
        external_labels: Labels,
        external_url: &str,
        restored: bool,
    ) -> AlertingRule {
        let texts: Vec<&str> = labels.iter().chain(annotations.iter()).map(|l| &*l.value).collect();
        let templates = template::AlertTemplates::new(&format!("__alert_{name}"), texts);
        AlertingRule {
            templates,
            name: name.to_string(),
            expr: expr.to_string(),
            hold_ms,
            keep_firing_for_ms,
            labels,
            annotations,
            external_labels,
            external_url: external_url.to_string(),
            state: Mutex::new(AlertingState {
                active: BTreeMap::new(),
                restored,
                health: RuleHealth::Unknown,
                last_error: None,
                eval_timestamp_ms: None,
                eval_duration_s: 0.0,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn query(&self) -> &str {
        &self.expr
    }

    pub fn hold_ms(&self) -> i64 {
        self.hold_ms
    }

    pub fn keep_firing_for_ms(&self) -> i64 {
        self.keep_firing_for_ms
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn annotations(&self) -> &Labels {
        &self.annotations
    }

    pub fn restored(&self) -> bool {
        self.state.lock().restored
    }

    pub fn set_restored(&self, restored: bool) {
        self.state.lock().restored = restored;
    }

    /// All alerts, including resolved ones still retained, sorted by labels.
    pub fn current_alerts(&self) -> Vec<ActiveAlert> {
        self.state.lock().active.values().cloned().collect()
    }

    /// Pending and firing alerts (not resolved), as `/api/v1/alerts` lists them.
    pub fn active_alerts(&self) -> Vec<ActiveAlert> {
        self.current_alerts().into_iter().filter(|a| a.resolved_at.is_none()).collect()
    }

    /// The maximum state over the rule's alerts; `Unknown` before the first evaluation.
    pub fn rule_state(&self) -> AlertState {
        let st = self.state.lock();
        if st.eval_timestamp_ms.is_none() {
            return AlertState::Unknown;
        }
        st.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
            .max(AlertState::Inactive)
    }

    fn expand_alert(
        &self,
        smpl: &QuerySample,
        exp: &template::AlertExpander<'_>,
    ) -> (Labels, Labels) {
        let metric = smpl.labels.without_metric_name();
        let data = template::alert_data(&metric, &self.external_labels, &self.external_url, smpl.v);
        let mut lb = metric.builder();
        for (i, l) in self.labels.iter().enumerate() {
            lb.set(&l.name, &exp.expand(i, &data));
        }
        lb.set("alertname", &self.name);
        let n = self.labels.len();
        let ann: Vec<(String, String)> = self
            .annotations
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.to_string(), exp.expand(n + i, &data)))
            .collect();
        (lb.build(), Labels::new(ann))
    }

    /// Evaluates the rule at `ts` (the query runs at `ts - query_offset`) and returns the
    /// `ALERTS` and `ALERTS_FOR_STATE` samples to append.
    pub fn eval(
        &self,
        ts: i64,
        query_offset_ms: i64,
        query: &Arc<dyn QueryFunc>,
        limit: usize,
    ) -> Result<Vec<QuerySample>, RuleError> {
        let res = query.query(&self.expr, ts - query_offset_ms)?;
        let ctx = FuncContext {
            query: Some(query.clone()),
            ts_ms: ts,
            external_url: self.external_url.clone(),
        };
        let expander = self.templates.expander(&ctx);
        let mut fresh: BTreeMap<Labels, ActiveAlert> = BTreeMap::new();
        for smpl in &res {
            let (labels, annotations) = self.expand_alert(smpl, &expander);
            if fresh.contains_key(&labels) {
                return Err(RuleError::DuplicateAlertLabelSet);
            }
            fresh.insert(
                labels.clone(),
                ActiveAlert {
                    state: AlertState::Pending,
                    labels,
                    annotations,
                    value: smpl.v,
                    active_at: Some(ts),
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: None,
                    keep_firing_since: None,
                },
            );
        }
        let mut st = self.state.lock();
        self.merge(&mut st.active, fresh.clone());
        let (vec, num_active) = self.advance(&mut st, &fresh, ts, query_offset_ms);
        if limit > 0 && num_active > limit {
            st.active.clear();
            return Err(RuleError::LimitExceeded { limit, count: num_active, what: "alerts" });
        }
        Ok(vec)
    }

    fn merge(
        &self,
        active: &mut BTreeMap<Labels, ActiveAlert>,
        fresh: BTreeMap<Labels, ActiveAlert>,
    ) {
        for (k, a) in fresh {
            match active.get_mut(&k) {
                Some(existing) if existing.state != AlertState::Inactive => {
                    existing.value = a.value;
                    existing.annotations = a.annotations;
                }
                _ => {
                    active.insert(k, a);
                }
            }
        }
    }

    /// Moves every alert through the state machine; returns the series samples and the
    /// number of pending/firing alerts.
    fn advance(
        &self,
        st: &mut AlertingState,
        fresh: &BTreeMap<Labels, ActiveAlert>,
        ts: i64,
        query_offset_ms: i64,
    ) -> (Vec<QuerySample>, usize) {
        let mut vec = Vec::new();
        let mut num_active = 0;
        let restored = st.restored;
        let mut remove = Vec::new();
        for (k, a) in st.active.iter_mut() {
            if !fresh.contains_key(k) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && self.keep_firing_for_ms > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < self.keep_firing_for_ms;
                }
                if a.state == AlertState::Pending
                    || a.resolved_at.is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    remove.push(k.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active += 1;
            if a.state == AlertState::Pending && a.active_at.is_some_and(|t| ts - t >= self.hold_ms)
            {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if a.state == AlertState::Firing && a.active_at.is_some_and(|t| ts - t < self.hold_ms) {
                a.state = AlertState::Pending;
                a.fired_at = None;
                a.last_sent_at = None;
                a.keep_firing_since = None;
            }
            if restored {
                let t = ts - query_offset_ms;
                vec.push(self.alerts_sample(a, t));
                let active_s = unix_seconds(a.active_at.unwrap_or(0)) as f64;
                vec.push(QuerySample { labels: self.for_state_labels(Some(a)), t, v: active_s });
            }
        }
        for k in remove {
            st.active.remove(&k);
        }
        (vec, num_active)
    }

    fn alerts_sample(&self, a: &ActiveAlert, t: i64) -> QuerySample {
        let mut lb = self.labels.builder();
        for l in a.labels.iter() {
            lb.set(&l.name, &l.value);
        }
        lb.set(model::METRIC_NAME, "ALERTS");
        lb.set("alertname", &self.name);
        lb.set("alertstate", a.state.as_str());
        QuerySample { labels: lb.build(), t, v: 1.0 }
    }

    /// Labels of the `ALERTS_FOR_STATE` series of `alert` (or of the rule when `None`).
    pub(crate) fn for_state_labels(&self, alert: Option<&ActiveAlert>) -> Labels {
        let mut lb = self.labels.builder();
        if let Some(a) = alert {
            for l in a.labels.iter() {
                lb.set(&l.name, &l.value);
            }
        }
        lb.set(model::METRIC_NAME, "ALERTS_FOR_STATE");
        lb.set("alertname", &self.name);
        lb.build()
    }

    /// Marks alerts as sent and returns those that need sending now, as notifier alerts.
    pub(crate) fn alerts_to_send(
        &self,
        ts: i64,
        resend_delay_ms: i64,
        interval_ms: i64,
    ) -> Vec<Alert> {
        let generator_url =
            format!("{}{}", self.external_url, template::funcs::graph_link(&self.expr, 1));
        let mut out = Vec::new();
        let mut st = self.state.lock();
        for a in st.active.values_mut() {
            if !a.needs_sending(ts, resend_delay_ms) {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = Some(ts + 4 * interval_ms.max(resend_delay_ms));
            out.push(Alert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at_ms: a.fired_at.unwrap_or(0),
                ends_at_ms: a.resolved_at.or(a.valid_until).unwrap_or(0),
                generator_url: generator_url.clone(),
            });
        }
        out
    }
}
