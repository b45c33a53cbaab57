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
        // Go's `strconv.ParseFloat`, as Prometheus reads `le`.
        let Ok(upper) = model::go_atof::parse(le) else {
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
    fn le_is_read_as_go_parses_floats() {
        // As Prometheus reads `le` (strconv.ParseFloat): hex, underscores, any-case infinity.
        let good = [
            ("+Inf", f64::INFINITY),
            ("0.5", 0.5),
            ("1e3", 1000.0),
            ("0x1p-1", 0.5),
            ("1_000", 1000.0),
            ("Infinity", f64::INFINITY),
            ("-INF", f64::NEG_INFINITY),
        ];
        for (le, want) in good {
            let l = Labels::new([("__name__", "h"), ("le", le)]);
            let p = plan(&[&l]);
            assert_eq!(p.member[0].map(|m| m.1), Some(want), "le={le}");
        }
        // Not floats to Go: skipped with a warning (out of range included).
        for le in ["", "abc", "1e400", "+NaN", "1__0", "0x1", "1.5f"] {
            let l = Labels::new([("__name__", "h"), ("le", le)]);
            let p = plan(&[&l]);
            assert!(p.member[0].is_none(), "le={le}");
            assert_eq!(p.bad.len(), 1, "le={le}");
        }
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
