//! [`EngineQuery`]: the [`QueryFunc`] backed by the PromQL engine, as Prometheus'
//! `EngineQueryFunc` (scalars become one sample with no labels; strings and matrices are errors).

use std::sync::Arc;

use promql::{Engine, QueryOptions, Value};
use storage::Queryable;

use crate::RuleError;
use crate::seams::{QueryFunc, QuerySample};

/// Runs rule queries through a shared engine over a storage.
pub struct EngineQuery {
    pub engine: Arc<Engine>,
    pub storage: Arc<dyn Queryable>,
    pub opts: QueryOptions,
}

impl EngineQuery {
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Queryable>) -> EngineQuery {
        EngineQuery { engine, storage, opts: QueryOptions::default() }
    }
}

impl QueryFunc for EngineQuery {
    fn query(&self, expr: &str, t_ms: i64) -> Result<Vec<QuerySample>, RuleError> {
        let res = self
            .engine
            .instant_query(self.storage.as_ref(), expr, t_ms, &self.opts)
            .map_err(|e| RuleError::Query(e.to_string()))?;
        match res.value {
            Value::Vector(v) => Ok(v
                .into_iter()
                .map(|s| QuerySample { labels: s.labels, t: s.t, v: s.v })
                .collect()),
            Value::Scalar { t, v } => {
                Ok(vec![QuerySample { labels: model::Labels::empty(), t, v }])
            }
            _ => Err(RuleError::NotAVector),
        }
    }
}
