//! `histogram_quantile` and `histogram_fraction` over classic (`le`-labelled) buckets.

use model::Labels;

use super::quantile::{Bucket, MonotonicityFix, bucket_fraction, bucket_quantile};

/// How each input series takes part: its bucket group and upper bound.
pub(crate) struct BucketPlan {
    /// Per input series: `(group, upper bound)`, or `None` for a bad `le` label.
    pub member: Vec<Option<(usize, f64)>>,
    /// Per group: output labels (input labels without `le`).
    pub groups: Vec<Labels>,
    /// Input series with a missing or malformed `le`: `(metric name, le value)`.
    pub bad: Vec<(usize, String, String)>,
}

/// Groups input series by their labels without `le`.
pub(crate) fn plan(inputs: &[&Labels]) -> BucketPlan {
    let mut ids: std::collections::HashMap<Labels, usize> = std::collections::HashMap::new();
    let mut plan =
        BucketPlan { member: Vec::with_capacity(inputs.len()), groups: vec![], bad: vec![] };
    for (i, l) in inputs.iter().enumerate() {
        let le = l.get("le").unwrap_or("");
        let Some(upper) = parse_go_float(le) else {
            plan.member.push(None);
            plan.bad.push((i, l.metric_name().unwrap_or("").to_string(), le.to_string()));
            continue;
        };
        let key = l.drop_names(&["le"]);
        let n = ids.len();
        let g = *ids.entry(key.clone()).or_insert(n);
        if g == plan.groups.len() {
            plan.groups.push(key);
        }
        plan.member.push(Some((g, upper)));
    }
    plan
}

/// Parses a float as Go's `strconv.ParseFloat` accepts the usual `le` values.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+']);
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
        }
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if s.is_empty() || s.contains(['i', 'I', 'n', 'N']) {
        return None;
    }
    s.replace('_', "").parse::<f64>().ok().filter(|_| !s.contains('_'))
}

/// The quantile of one group's buckets.
pub(crate) fn quantile_of(q: f64, buckets: &mut Vec<Bucket>) -> (f64, MonotonicityFix) {
    bucket_quantile(q, buckets)
}

/// The fraction of one group's observations in `[lower, upper]`.
pub(crate) fn fraction_of(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    bucket_fraction(lower, upper, buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_parsing() {
        assert_eq!(parse_go_float("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_float("0.5"), Some(0.5));
        assert_eq!(parse_go_float("1e3"), Some(1000.0));
        assert_eq!(parse_go_float(""), None);
        assert_eq!(parse_go_float("abc"), None);
    }

    #[test]
    fn groups_without_le() {
        let a = Labels::new([("__name__", "h"), ("le", "1")]);
        let b = Labels::new([("__name__", "h"), ("le", "+Inf")]);
        let c = Labels::new([("__name__", "h")]);
        let p = plan(&[&a, &b, &c]);
        assert_eq!(p.groups.len(), 1);
        assert!(p.member[2].is_none());
        assert_eq!(p.bad.len(), 1);
    }
}
