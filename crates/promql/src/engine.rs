//! `Engine`: options, query entry points, and conversion of evaluation output to results.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::ast::ValueType;
use crate::eval::names::{self, Settle};
use crate::eval::{Evaluator, Limits, Range, Series, Val};
use crate::value::{MatrixSeries, QueryResult, Value, VectorSample};
use crate::{QueryError, parser};

/// Engine-wide settings (`--query.lookback-delta`, `--query.max-samples`, `--query.timeout`).
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub lookback_delta_ms: i64,
    pub max_samples: usize,
    pub timeout: Duration,
    /// Keep `__name__` through the query and drop it from the final result only, as Prometheus
    /// does with `--enable-feature=promql-delayed-name-removal` (and in its PromQL test engine).
    /// Off by default, as in Prometheus: operators drop the name at once.
    pub delayed_name_removal: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 300_000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            delayed_name_removal: false,
        }
    }
}

/// Per-query overrides.
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    pub lookback_delta_ms: Option<i64>,
    pub timeout: Option<Duration>,
    pub cancel: Option<Arc<AtomicBool>>,
    /// A budget of samples shared with other queries (e.g. server-wide); `None` for no limit
    /// beyond `max_samples`. The query fails with an `execution` error when it would exceed it.
    pub sample_budget: Option<Arc<crate::SampleBudget>>,
}

/// The PromQL engine. Stateless between queries; share it in an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

/// The interval of subqueries without an explicit step (Prometheus' default evaluation interval).
const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

impl Engine {
    pub fn new(opts: EngineOptions) -> Engine {
        Engine { opts }
    }

    /// Evaluates `query` at `t_ms`.
    pub fn instant_query(
        &self,
        storage: &dyn storage::Queryable,
        query: &str,
        t_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = parser::parse(query)?;
        let range = Range { start: t_ms, end: t_ms, interval: 1 };
        let mut ev = self.evaluator(storage, query, range, opts);
        let val = ev.eval_top(range, &expr)?;
        let value = match (expr.value_type(), val) {
            (_, Val::String(s)) => Value::String { t: t_ms, v: s },
            (_, Val::Scalar(v)) => {
                Value::Scalar { t: t_ms, v: v.first().copied().unwrap_or(f64::NAN) }
            }
            (ValueType::Matrix, Val::Vector(m) | Val::Matrix(m)) => {
                Value::Matrix(finish_matrix(m)?)
            }
            (_, Val::Vector(v) | Val::Matrix(v)) => Value::Vector(finish_vector(v, t_ms)?),
        };
        Ok(ev.into_result(value))
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms`.
    pub fn range_query(
        &self,
        storage: &dyn storage::Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult, QueryError> {
        let expr = parser::parse(query)?;
        let vt = expr.value_type();
        if vt != ValueType::Scalar && vt != ValueType::Vector {
            // Prometheus rejects it when creating the query (bad_data), naming the type as its
            // documentation does.
            return Err(QueryError::Parse(format!(
                "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                crate::parser::type_name(vt)
            )));
        }
        if step_ms == 0 {
            // Prometheus' API lets a step under a millisecond through; its evaluator truncates
            // it to 0 ms and divides by it, which it reports as this runtime error.
            return Err(QueryError::Execution(
                "unexpected error: runtime error: integer divide by zero".into(),
            ));
        }
        if step_ms < 0 {
            return Err(QueryError::Execution(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            // No step to evaluate, as Prometheus' evaluator (the API refuses an end before the
            // start; this happens when the end's UnixNano wraps beyond year 2262).
            return Ok(QueryResult {
                value: Value::Matrix(Vec::new()),
                warnings: Vec::new(),
                infos: Vec::new(),
                stats: Default::default(),
            });
        }
        let range = Range { start: start_ms, end: end_ms, interval: step_ms };
        let mut ev = self.evaluator(storage, query, range, opts);
        let val = ev.eval_top(range, &expr)?;
        let series = match val {
            Val::Scalar(vals) => vec![Series {
                labels: model::Labels::empty(),
                points: vals
                    .iter()
                    .enumerate()
                    .map(|(i, v)| model::Sample::new(range.ts(i), *v))
                    .collect(),
                drop_name: false,
            }],
            Val::Vector(v) | Val::Matrix(v) => v,
            Val::String(_) => vec![],
        };
        let value = Value::Matrix(finish_matrix(series)?);
        Ok(ev.into_result(value))
    }

    fn evaluator<'a>(
        &self,
        storage: &'a dyn storage::Queryable,
        query: &'a str,
        range: Range,
        opts: &QueryOptions,
    ) -> Evaluator<'a> {
        let timeout = opts.timeout.unwrap_or(self.opts.timeout);
        let limits = Limits {
            max_samples: self.opts.max_samples,
            deadline: Instant::now().checked_add(timeout),
            cancel: opts.cancel.clone(),
            budget: opts.sample_budget.clone(),
        };
        let lookback =
            opts.lookback_delta_ms.filter(|l| *l > 0).unwrap_or(self.opts.lookback_delta_ms);
        let mut ev =
            Evaluator::new(storage, query, range, lookback, DEFAULT_SUBQUERY_STEP_MS, limits);
        ev.delayed_name_removal = self.opts.delayed_name_removal;
        ev
    }
}

/// Final vector: drop `__name__` where marked, reject duplicate label sets.
fn finish_vector(mut series: Vec<Series>, t: i64) -> Result<Vec<VectorSample>, QueryError> {
    names::drop_marked_names(&mut series);
    let series = names::resolve_collisions(series, Settle::Reject)?;
    Ok(series
        .into_iter()
        .filter_map(|s| s.points.first().map(|p| VectorSample { labels: s.labels, t, v: p.v }))
        .collect())
}

/// Final matrix: drop `__name__` where marked, merge series that became equal (two samples at
/// one step are an error), drop empty series, sort by labels.
fn finish_matrix(mut series: Vec<Series>) -> Result<Vec<MatrixSeries>, QueryError> {
    names::drop_marked_names(&mut series);
    let series = names::resolve_collisions(series, Settle::Merge)?;
    let mut out: Vec<MatrixSeries> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .map(|s| MatrixSeries { labels: s.labels, samples: s.points })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}
