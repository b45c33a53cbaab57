//! The PromQL engine: parses a query, evaluates it over [`storage::Queryable`] at one instant or
//! over a range of steps, and returns Prometheus' exact results and annotations.
//!
//! Moving parts:
//! - [`parser`]: the only module touching `promql-parser`; converts to [`ast`] with limits.
//! - `eval`: the evaluator. Every expression is evaluated for all steps at once; selectors read
//!   each series once per query and slide windows over the decoded samples.
//! - `functions`: one file per function family; `aggregation`/`binary` in `eval`.
//!
//! API boundary: [`Engine::instant_query`] and [`Engine::range_query`].

pub mod ast;
mod budget;
mod engine;
mod error;
mod eval;
mod functions;
pub mod parser;
mod value;

pub use budget::SampleBudget;
pub use engine::{Engine, EngineOptions, QueryOptions};
pub use error::QueryError;
pub use value::{MatrixSeries, QueryResult, QueryStats, Value, VectorSample};
