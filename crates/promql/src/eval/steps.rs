//! Walking intermediate results step by step, and collecting per-step output into series.

use std::collections::HashMap;

use model::{Labels, Sample};

use super::Series;
use crate::QueryError;

/// Gathers, for each step in increasing order, the values of all series present at that step.
#[derive(Debug, Default)]
pub(crate) struct StepCursor {
    pos: Vec<usize>,
    /// `(series index, value)` of the current step.
    pub buf: Vec<(usize, f64)>,
}

impl StepCursor {
    pub fn new(n: usize) -> StepCursor {
        StepCursor { pos: vec![0; n], buf: Vec::with_capacity(n) }
    }

    /// Fills `buf` with the series having a point at `ts`. Steps must be visited in order.
    pub fn gather(&mut self, series: &[Series], ts: i64) {
        self.buf.clear();
        for (i, s) in series.iter().enumerate() {
            let p = self.pos[i];
            if let Some(pt) = s.points.get(p)
                && pt.t == ts
            {
                self.buf.push((i, pt.v));
                self.pos[i] = p + 1;
            }
        }
    }
}

/// Collects output samples into series keyed by label set, rejecting two samples with the same
/// labels at the same step.
#[derive(Debug, Default)]
pub(crate) struct OutBuilder {
    map: HashMap<Labels, usize>,
    pub series: Vec<Series>,
}

pub(crate) fn dup_labelset() -> QueryError {
    QueryError::Execution("vector cannot contain metrics with the same labelset".into())
}

impl OutBuilder {
    /// The index of the output series with `labels`, created if new.
    pub fn index(&mut self, labels: &Labels, drop_name: bool) -> usize {
        if let Some(&i) = self.map.get(labels) {
            if drop_name {
                self.series[i].drop_name = true;
            }
            return i;
        }
        let i = self.series.len();
        self.map.insert(labels.clone(), i);
        self.series.push(Series { labels: labels.clone(), points: Vec::new(), drop_name });
        i
    }

    /// Appends a sample at step `ts` to output series `i`.
    pub fn push_at(&mut self, i: usize, ts: i64, v: f64) -> Result<(), QueryError> {
        let pts = &mut self.series[i].points;
        if pts.last().is_some_and(|p| p.t == ts) {
            return Err(dup_labelset());
        }
        pts.push(Sample::new(ts, v));
        Ok(())
    }

    pub fn push(
        &mut self,
        labels: &Labels,
        drop_name: bool,
        ts: i64,
        v: f64,
    ) -> Result<(), QueryError> {
        let i = self.index(labels, drop_name);
        self.push_at(i, ts, v)
    }

    /// The collected series, without those that never got a sample.
    pub fn finish(mut self) -> Vec<Series> {
        self.series.retain(|s| !s.points.is_empty());
        self.series
    }
}
