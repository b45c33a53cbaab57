//! The evaluator: evaluates an expression for all steps of a query at once.
//!
//! Every instant-vector expression yields a list of [`Series`] whose points sit at step
//! timestamps; scalars yield one value per step. Per-step operators (binary operators,
//! aggregations, instant functions) walk the steps with [`steps::StepCursor`] over inputs that
//! were computed once, so series selection and label work happen once per query, not per step.

mod aggregation;
mod annotations;
mod binary;
mod call;
mod fmt;
mod instant_fn;
mod load_guard;
pub(crate) mod names;
pub(crate) mod positions;
mod range_stream;
mod selector;
mod steps;
mod subquery;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use model::{Labels, Sample};

use crate::QueryError;
use crate::ast::{At, Expr};
use crate::value::{QueryResult, QueryStats, Value};

pub(crate) use annotations::Annotations;
pub(crate) use steps::{OutBuilder, StepCursor};

/// One series of an intermediate result.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub labels: Labels,
    pub points: Vec<Sample>,
    /// `__name__` is to be dropped when the result is final (delayed name removal).
    pub drop_name: bool,
}

/// An intermediate value.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// One value per step.
    Scalar(Vec<f64>),
    String(String),
    /// An instant vector over the steps.
    Vector(Vec<Series>),
    /// A range vector (only at a single evaluation time).
    Matrix(Vec<Series>),
}

/// The steps of an evaluation: `start, start+interval, ..., <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

impl Range {
    pub fn steps(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        ((self.end - self.start) / self.interval) as usize + 1
    }

    pub fn ts(&self, i: usize) -> i64 {
        self.start + i as i64 * self.interval
    }

    /// The last step actually evaluated.
    pub fn last(&self) -> i64 {
        self.ts(self.steps().saturating_sub(1))
    }
}

/// Limits of one query.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub max_samples: usize,
    pub deadline: Option<Instant>,
    pub cancel: Option<Arc<AtomicBool>>,
    pub budget: Option<Arc<crate::SampleBudget>>,
}

/// Evaluation state of one query (shared by nested subquery evaluations).
pub(crate) struct Evaluator<'a> {
    pub storage: &'a dyn storage::Queryable,
    pub query: &'a str,
    /// The query's own range, for `@ start()` and `@ end()`.
    pub query_range: Range,
    pub lookback: i64,
    pub subquery_step: i64,
    pub limits: Limits,
    pub cur_samples: usize,
    pub peak_samples: usize,
    pub total_samples: u64,
    pub annos: Annotations,
    checks: u32,
    /// Samples taken from the shared budget and not yet given back.
    budget_held: usize,
    /// Keep `__name__` until the end of the query instead of dropping it at the operator.
    pub delayed_name_removal: bool,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        storage: &'a dyn storage::Queryable,
        query: &'a str,
        query_range: Range,
        lookback: i64,
        subquery_step: i64,
        limits: Limits,
    ) -> Evaluator<'a> {
        Evaluator {
            storage,
            query,
            query_range,
            lookback,
            subquery_step,
            limits,
            cur_samples: 0,
            peak_samples: 0,
            total_samples: 0,
            annos: Annotations::default(),
            checks: 0,
            budget_held: 0,
            delayed_name_removal: false,
        }
    }

    /// Evaluates the root expression.
    pub fn eval_top(&mut self, r: Range, e: &Expr) -> Result<Val, QueryError> {
        self.eval(r, e)
    }

    pub fn into_result(mut self, value: Value) -> QueryResult {
        let (warnings, infos) = std::mem::take(&mut self.annos).into_strings(self.query);
        QueryResult {
            value,
            warnings,
            infos,
            stats: QueryStats {
                total_samples: self.total_samples,
                peak_samples: self.peak_samples as u64,
            },
        }
    }

    /// Checks timeout and cancellation.
    pub fn check_interrupt(&mut self) -> Result<(), QueryError> {
        if let Some(c) = &self.limits.cancel
            && c.load(Ordering::Relaxed)
        {
            return Err(QueryError::Canceled("expression evaluation".into()));
        }
        if let Some(d) = self.limits.deadline
            && Instant::now() > d
        {
            return Err(QueryError::Timeout("expression evaluation".into()));
        }
        Ok(())
    }

    /// Like [`Evaluator::check_interrupt`], but only every 64th call (for inner loops).
    pub fn tick(&mut self) -> Result<(), QueryError> {
        self.checks = self.checks.wrapping_add(1);
        if self.checks.is_multiple_of(64) { self.check_interrupt() } else { Ok(()) }
    }

    /// Accounts `n` more samples held in memory.
    pub fn add_samples(&mut self, n: usize) -> Result<(), QueryError> {
        self.cur_samples += n;
        self.total_samples += n as u64;
        self.peak_samples = self.peak_samples.max(self.cur_samples);
        if self.cur_samples > self.limits.max_samples {
            return Err(QueryError::TooManySamples);
        }
        if let Some(b) = &self.limits.budget {
            b.try_acquire(n)?;
            self.budget_held += n;
        }
        Ok(())
    }

    /// Accounts `n` samples released.
    pub fn release_samples(&mut self, n: usize) {
        self.cur_samples = self.cur_samples.saturating_sub(n);
        if let Some(b) = &self.limits.budget {
            let give = n.min(self.budget_held);
            b.release(give);
            self.budget_held -= give;
        }
    }

    /// The evaluation time of a selector at step `ts` with `@` and offset applied.
    pub fn ref_time(&self, ts: i64, at: Option<At>, offset: i64) -> i64 {
        self.at_time(at).unwrap_or(ts) - offset
    }

    pub fn at_time(&self, at: Option<At>) -> Option<i64> {
        match at? {
            At::Start => Some(self.query_range.start),
            At::End => Some(self.query_range.end),
            At::Time(t) => Some(t),
        }
    }

    /// Evaluates `e` over the steps of `r`.
    pub fn eval(&mut self, r: Range, e: &Expr) -> Result<Val, QueryError> {
        self.check_interrupt()?;
        match e {
            Expr::Paren(inner) => self.eval(r, inner),
            Expr::Number(v) => Ok(Val::Scalar(vec![*v; r.steps()])),
            Expr::String(s) => Ok(Val::String(s.clone())),
            Expr::InvalidUtf8(b) => Ok(Val::String(String::from_utf8_lossy(b).into_owned())),
            Expr::Neg(inner) => {
                let v = negate(self.eval(r, inner)?);
                self.settle_names(v, names::Settle::Merge)
            }
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.eval_vector_selector(r, vs)?)),
            Expr::MatrixSelector { vs, range } => {
                Ok(Val::Matrix(self.eval_matrix_selector(r, vs, *range)?))
            }
            Expr::Subquery { .. } => Ok(Val::Matrix(self.eval_subquery_top(r, e)?)),
            Expr::Binary { .. } => {
                let v = self.eval_binary(r, e)?;
                self.settle_names(v, names::Settle::Merge)
            }
            Expr::Aggregate { .. } => self.eval_aggregate(r, e),
            Expr::Call { func, args } => {
                let v = self.eval_call(r, func, args)?;
                let over_range = args.iter().any(|a| {
                    matches!(a.unparen(), Expr::MatrixSelector { .. } | Expr::Subquery { .. })
                });
                let mode = if over_range { names::Settle::Reject } else { names::Settle::Merge };
                self.settle_names(v, mode)
            }
        }
    }

    /// Drops `__name__` where the operator just marked it, unless names are removed at the end.
    fn settle_names(&self, v: Val, mode: names::Settle) -> Result<Val, QueryError> {
        if self.delayed_name_removal { Ok(v) } else { names::settle(v, mode) }
    }

    /// Evaluates an expression that must be a scalar (function and aggregation parameters).
    pub fn eval_scalar(&mut self, r: Range, e: &Expr) -> Result<Vec<f64>, QueryError> {
        match self.eval(r, e)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(QueryError::Execution("expected scalar".into())),
        }
    }

    /// Evaluates an expression that must be an instant vector.
    pub fn eval_vector(&mut self, r: Range, e: &Expr) -> Result<Vec<Series>, QueryError> {
        match self.eval(r, e)? {
            Val::Vector(v) => Ok(v),
            Val::Scalar(_) => {
                Err(QueryError::Execution("expected instant vector, got scalar".into()))
            }
            _ => Err(QueryError::Execution("expected instant vector".into())),
        }
    }
}

impl Drop for Evaluator<'_> {
    /// Gives back to the shared budget whatever the query still holds.
    fn drop(&mut self) {
        if let Some(b) = &self.limits.budget {
            b.release(self.budget_held);
            self.budget_held = 0;
        }
    }
}

fn negate(v: Val) -> Val {
    match v {
        Val::Scalar(mut s) => {
            s.iter_mut().for_each(|x| *x = -*x);
            Val::Scalar(s)
        }
        Val::Vector(mut ss) => {
            for s in &mut ss {
                s.drop_name = true;
                s.points.iter_mut().for_each(|p| p.v = -p.v);
            }
            Val::Vector(ss)
        }
        other => other,
    }
}
