//! When `__name__` goes away: at once after the operator that drops it (Prometheus' default), or
//! at the end of the query (`promql-delayed-name-removal`, the mode Prometheus' own test engine
//! runs in).
//!
//! Every operator marks the series whose name it drops ([`Series::drop_name`]). In the default
//! mode the evaluator settles those marks right after the operator, so later operators
//! (`label_replace` reading `__name__`, `by (__name__)`, `on(__name__)`) no longer see the name,
//! and two series that became equal are handled where Prometheus handles them:
//! - per-step operators (binary operators, instant functions, unary minus) merge them, and two
//!   samples at the same step are an error;
//! - range functions (`rate(x[5m])`, also over subqueries) reject them outright, even when their
//!   samples never meet in time.

use std::collections::HashMap;

use model::Labels;

use super::{Series, Val, steps::dup_labelset};
use crate::QueryError;

/// How series that became equal after dropping `__name__` are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Merge them; an error only when two land on the same step.
    Merge,
    /// Any two non-empty series with equal labels are an error.
    Reject,
}

/// Drops `__name__` from the marked series of `v` now, handling collisions per `mode`.
pub(crate) fn settle(v: Val, mode: Settle) -> Result<Val, QueryError> {
    match v {
        Val::Vector(series) => Ok(Val::Vector(settle_series(series, mode)?)),
        other => Ok(other),
    }
}

fn settle_series(mut series: Vec<Series>, mode: Settle) -> Result<Vec<Series>, QueryError> {
    if !series.iter().any(|s| s.drop_name) {
        return Ok(series);
    }
    drop_marked_names(&mut series);
    resolve_collisions(series, mode)
}

/// Drops `__name__` from the series marked for it, clearing the marks.
pub(crate) fn drop_marked_names(series: &mut [Series]) {
    for s in series {
        if s.drop_name {
            s.labels = s.labels.without_metric_name();
            s.drop_name = false;
        }
    }
}

/// Handles non-empty series with equal labels per `mode`; returns the series as they are when
/// there are none.
pub(crate) fn resolve_collisions(
    series: Vec<Series>,
    mode: Settle,
) -> Result<Vec<Series>, QueryError> {
    let mut first: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut collided = false;
    for (i, s) in series.iter().enumerate() {
        if s.points.is_empty() {
            continue;
        }
        if first.insert(s.labels.clone(), i).is_some() {
            if mode == Settle::Reject {
                return Err(dup_labelset());
            }
            collided = true;
        }
    }
    if collided { merge(series) } else { Ok(series) }
}

/// Merges series with equal labels into the first of them, in order of first appearance.
fn merge(series: Vec<Series>) -> Result<Vec<Series>, QueryError> {
    let mut at: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut out: Vec<Series> = Vec::with_capacity(series.len());
    let mut grown = vec![];
    for s in series {
        if s.points.is_empty() {
            continue;
        }
        match at.get(&s.labels) {
            Some(&i) => {
                out[i].points.extend_from_slice(&s.points);
                grown.push(i);
            }
            None => {
                at.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    grown.sort_unstable();
    grown.dedup();
    for i in grown {
        let pts = &mut out[i].points;
        pts.sort_by_key(|p| p.t);
        if pts.windows(2).any(|w| w[0].t == w[1].t) {
            return Err(dup_labelset());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use model::Sample;

    use super::*;

    fn s(name: &str, job: &str, ts: &[i64], drop_name: bool) -> Series {
        Series {
            labels: Labels::new([("__name__", name), ("job", job)]),
            points: ts.iter().map(|t| Sample::new(*t, 1.0)).collect(),
            drop_name,
        }
    }

    fn vector(v: Val) -> Vec<Series> {
        match v {
            Val::Vector(s) => s,
            _ => panic!("not a vector"),
        }
    }

    #[test]
    fn unmarked_series_keep_their_names() {
        let out =
            vector(settle(Val::Vector(vec![s("a", "x", &[1], false)]), Settle::Merge).unwrap());
        assert_eq!(out[0].labels.get("__name__"), Some("a"));
    }

    #[test]
    fn merge_joins_series_that_meet_at_no_step() {
        let v = Val::Vector(vec![s("a", "x", &[1, 3], true), s("b", "x", &[2], true)]);
        let out = vector(settle(v, Settle::Merge).unwrap());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels.get("__name__"), None);
        assert_eq!(out[0].points.iter().map(|p| p.t).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn merge_rejects_two_samples_at_one_step() {
        let v = Val::Vector(vec![s("a", "x", &[1, 2], true), s("b", "x", &[2], true)]);
        let err = settle(v, Settle::Merge).unwrap_err();
        assert!(err.to_string().contains("same labelset"), "{err}");
    }

    #[test]
    fn reject_refuses_equal_labels_even_apart_in_time() {
        let v = Val::Vector(vec![s("a", "x", &[1], true), s("b", "x", &[2], true)]);
        assert!(settle(v, Settle::Reject).is_err());
        let v = Val::Vector(vec![s("a", "x", &[1], true), s("b", "x", &[], true)]);
        assert_eq!(vector(settle(v, Settle::Reject).unwrap()).len(), 2);
    }
}
