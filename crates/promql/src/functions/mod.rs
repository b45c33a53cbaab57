//! PromQL functions, one file per family. This module maps names to implementations.

pub(crate) mod histogram;
pub(crate) mod kahan;
pub(crate) mod math;
pub(crate) mod over_time;
pub(crate) mod quantile;
pub(crate) mod rate;
pub(crate) mod time;
pub(crate) mod window;

use crate::ast::ValueType;
pub(crate) use window::{RangeFn, Window};

/// The type a function returns.
pub(crate) fn return_type(name: &str) -> ValueType {
    match name {
        "time" | "scalar" | "pi" => ValueType::Scalar,
        _ => ValueType::Vector,
    }
}

/// The implementation of a function taking a range vector, if `name` is one.
pub(crate) fn range_fn(name: &str) -> Option<RangeFn> {
    use over_time as o;
    Some(match name {
        "rate" => rate::rate,
        "increase" => rate::increase,
        "delta" => rate::delta,
        "irate" => rate::irate,
        "idelta" => rate::idelta,
        "deriv" => rate::deriv,
        "predict_linear" => rate::predict_linear,
        "avg_over_time" => o::avg_over_time,
        "sum_over_time" => o::sum_over_time,
        "count_over_time" => o::count_over_time,
        "min_over_time" => o::min_over_time,
        "max_over_time" => o::max_over_time,
        "last_over_time" => o::last_over_time,
        "first_over_time" => o::first_over_time,
        "ts_of_min_over_time" => o::ts_of_min_over_time,
        "ts_of_max_over_time" => o::ts_of_max_over_time,
        "ts_of_last_over_time" => o::ts_of_last_over_time,
        "ts_of_first_over_time" => o::ts_of_first_over_time,
        "present_over_time" | "absent_over_time" => o::present_over_time,
        "quantile_over_time" => o::quantile_over_time,
        "mad_over_time" => o::mad_over_time,
        "stddev_over_time" => o::stddev_over_time,
        "stdvar_over_time" => o::stdvar_over_time,
        "changes" => o::changes,
        "resets" => o::resets,
        "double_exponential_smoothing" | "holt_winters" => o::double_exponential_smoothing,
        _ => return None,
    })
}

/// Prometheus' `almost.Equal`: relative comparison with NaN == NaN.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if model::value::is_stale_nan(a) || model::value::is_stale_nan(b) {
        return model::value::is_stale_nan(a) && model::value::is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}
