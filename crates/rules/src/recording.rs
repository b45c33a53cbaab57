//! Recording rules: evaluate an expression and store the result under a new metric name.

use std::collections::HashSet;
use std::sync::Arc;

use model::Labels;
use parking_lot::Mutex;

use crate::RuleError;
use crate::group::RuleHealth;
use crate::seams::{QueryFunc, QuerySample};

#[derive(Debug, Default)]
pub(crate) struct RecordingState {
    pub health: RuleHealth,
    pub last_error: Option<String>,
    pub eval_timestamp_ms: Option<i64>,
    pub eval_duration_s: f64,
}

/// A recording rule.
#[derive(Debug)]
pub struct RecordingRule {
    pub(crate) name: String,
    pub(crate) expr: String,
    pub(crate) labels: Labels,
    pub(crate) state: Mutex<RecordingState>,
}

impl RecordingRule {
    pub fn new(name: &str, expr: &str, labels: Labels) -> RecordingRule {
        RecordingRule {
            name: name.to_string(),
            expr: expr.to_string(),
            labels,
            state: Mutex::new(RecordingState::default()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn query(&self) -> &str {
        &self.expr
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Evaluates at `ts - query_offset`; the samples carry the rule's name and labels.
    pub fn eval(
        &self,
        ts: i64,
        query_offset_ms: i64,
        query: &Arc<dyn QueryFunc>,
        limit: usize,
    ) -> Result<Vec<QuerySample>, RuleError> {
        let mut vector = query.query(&self.expr, ts - query_offset_ms)?;
        for s in &mut vector {
            let mut lb = s.labels.builder();
            lb.set(model::METRIC_NAME, &self.name);
            for l in self.labels.iter() {
                lb.set(&l.name, &l.value);
            }
            s.labels = lb.build();
        }
        let mut seen = HashSet::with_capacity(vector.len());
        if !vector.iter().all(|s| seen.insert(s.labels.clone())) {
            return Err(RuleError::DuplicateRecordingLabelSet);
        }
        if limit > 0 && vector.len() > limit {
            return Err(RuleError::LimitExceeded { limit, count: vector.len(), what: "series" });
        }
        Ok(vector)
    }
}
