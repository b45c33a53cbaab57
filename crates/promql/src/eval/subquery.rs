//! Subqueries: the inner expression evaluated on its own step grid.

use model::Labels;

use super::{Evaluator, Range, Series, Val};
use crate::QueryError;
use crate::ast::Expr;

impl Evaluator<'_> {
    /// The inner range of a subquery evaluated within the steps of `r`, as Prometheus'
    /// `subqueryTimeRange` computes it (with `@` fixing the parent range to one instant).
    fn subquery_range<'e>(&self, r: Range, e: &'e Expr) -> Result<(Range, &'e Expr), QueryError> {
        let Expr::Subquery { expr, range, step, offset, at } = e else {
            return Err(QueryError::Execution("not a subquery".into()));
        };
        let (pstart, pend) = match self.at_time(*at) {
            Some(t) => (t, t),
            None => (r.start, r.last()),
        };
        let interval = step.unwrap_or(self.subquery_step).max(1);
        let end = pend - offset;
        let lo = pstart - offset - range;
        let mut start = interval * (lo / interval);
        if start <= lo {
            start += interval;
        }
        Ok((Range { start, end, interval }, expr))
    }

    /// Evaluates a subquery's inner expression; every returned point is at an inner step.
    pub fn eval_subquery_points(&mut self, r: Range, e: &Expr) -> Result<Vec<Series>, QueryError> {
        let (inner, expr) = self.subquery_range(r, e)?;
        if inner.end < inner.start {
            return Ok(vec![]);
        }
        let before = self.cur_samples;
        let series = self.inner_series(inner, expr)?;
        // The caller releases every point of the result once the range function is done:
        // account for those the inner operators did not (instant functions, scalars, ...), so
        // `vector(1)[60d:1s]` counts against max_samples and the shared budget.
        let total: usize = series.iter().map(|s| s.points.len()).sum();
        let counted = self.cur_samples.saturating_sub(before);
        if total > counted {
            self.add_samples(total - counted)?;
        }
        Ok(series)
    }

    fn inner_series(&mut self, inner: Range, expr: &Expr) -> Result<Vec<Series>, QueryError> {
        match self.eval(inner, expr)? {
            Val::Vector(v) => Ok(v),
            Val::Scalar(s) => Ok(vec![Series {
                labels: Labels::empty(),
                points: s
                    .iter()
                    .enumerate()
                    .map(|(i, v)| model::Sample::new(inner.ts(i), *v))
                    .collect(),
                drop_name: false,
            }]),
            _ => Err(QueryError::Execution(
                "subquery must be over an instant vector or scalar".into(),
            )),
        }
    }

    /// A subquery as a value at a single evaluation time: a range vector.
    ///
    /// Prometheus evaluates a step-invariant inner expression (`(x @ t)[45s:2m]`) once at the
    /// subquery's first step, even when that step lies after the evaluation time because the
    /// range is shorter than the step and holds none: the result then has one point per series
    /// at that step. Range functions never see it (it is outside their window), only a subquery
    /// returned as the query's result does.
    pub fn eval_subquery_top(&mut self, r: Range, e: &Expr) -> Result<Vec<Series>, QueryError> {
        if r.start != r.end {
            return Err(QueryError::Execution("cannot do range evaluation of a subquery".into()));
        }
        let (inner, expr) = self.subquery_range(r, e)?;
        if inner.end < inner.start && step_invariant(expr) {
            let once = Range { start: inner.start, end: inner.start, interval: inner.interval };
            let series = self.inner_series(once, expr)?;
            let total: usize = series.iter().map(|s| s.points.len()).sum();
            self.add_samples(total)?;
            return Ok(series);
        }
        self.eval_subquery_points(r, e)
    }
}

/// Functions whose result changes with the evaluation time even over step-invariant arguments
/// (Prometheus' `AtModifierUnsafeFunctions`).
const AT_MODIFIER_UNSAFE: [&str; 11] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
];

/// Whether Prometheus' `PreprocessExpr` finds `e` step-invariant: every selector has `@`, and
/// no time-dependent function is involved (an aggregation's parameter does not count).
fn step_invariant(e: &Expr) -> bool {
    match e {
        Expr::Number(_) | Expr::String(_) | Expr::InvalidUtf8(_) => true,
        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => vs.at.is_some(),
        Expr::Subquery { at, .. } => at.is_some(),
        Expr::Aggregate { expr, .. } => step_invariant(expr),
        Expr::Neg(inner) | Expr::Paren(inner) => step_invariant(inner),
        Expr::Binary { lhs, rhs, .. } => step_invariant(lhs) && step_invariant(rhs),
        Expr::Call { func, args } => {
            !AT_MODIFIER_UNSAFE.contains(&func.as_str()) && args.iter().all(step_invariant)
        }
    }
}
