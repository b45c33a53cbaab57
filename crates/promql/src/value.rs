//! Query results as the API returns them.

use model::{Labels, Sample};

/// The result of a query with its annotations and sample statistics.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub value: Value,
    /// "PromQL warning: ..." annotations, deduplicated, in order of appearance.
    pub warnings: Vec<String>,
    /// "PromQL info: ..." annotations.
    pub infos: Vec<String>,
    pub stats: QueryStats,
}

/// Sample statistics of one query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage or produced by subqueries.
    pub total_samples: u64,
    /// The most samples held in memory at one time.
    pub peak_samples: u64,
}

/// A query's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<VectorSample>),
    Matrix(Vec<MatrixSeries>),
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// One series of a range vector.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}
