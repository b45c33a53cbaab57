//! The input of a range-vector function at one step.

use model::Sample;

/// One series' samples in `(range_end - range, range_end]` at one evaluation step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window<'a> {
    pub samples: &'a [Sample],
    /// Exclusive start of the window (ms).
    pub range_start: i64,
    /// Inclusive end of the window (ms).
    pub range_end: i64,
    /// The selector's range (ms).
    pub range: i64,
    /// The evaluation step's timestamp (ms).
    pub step_ts: i64,
    /// Scalar arguments at this step, in argument order.
    pub params: [f64; 2],
    /// No sample is lower than its predecessor (set only for `rate`/`increase`; false means
    /// "unknown").
    pub no_resets: bool,
}

/// A range-vector function: the result for one window, or none.
pub(crate) type RangeFn = fn(&Window) -> Option<f64>;
