//! Normalised query results from both sides and their comparison: label sets as sorted maps,
//! timestamps in ms, values as Prometheus' API prints them (Go's `strconv.FormatFloat(v, 'f', -1,
//! 64)`, with `'e'` outside [1e-6, 1e21)).

use std::collections::BTreeMap;

use promql::{QueryError, QueryResult, Value};
use serde_json::Value as Json;

type LabelMap = BTreeMap<String, String>;

/// A result of either side.
#[derive(Debug, Clone, PartialEq)]
pub enum Norm {
    /// `errorType` and message; errors compare by their type only (wording may differ).
    Error(String, String),
    Scalar(i64, String),
    Str(i64, String),
    Vector(Vec<(LabelMap, i64, String)>),
    Matrix(Vec<(LabelMap, Vec<(i64, String)>)>),
}

/// A float as Prometheus' HTTP API prints it.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        prometheus_float(v)
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` for finite `v` (Go's choice between equally
/// close shortest digits: 3829.86553955078125 is "3829.8655395507812", not "...813").
pub fn go_f(v: f64) -> String {
    model::go_float::fixed(v)
}

/// Go's `'e'` format with shortest digits and at least two exponent digits.
fn go_e(v: f64) -> String {
    let e = model::go_float::scientific(v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{esign}{:02}", exp.abs())
}

/// Prometheus' `jsonutil.MarshalValue`: shortest round-trip digits, `'f'` format, but `'e'`
/// (Go style, at least two exponent digits) below 1e-6 and from 1e21.
fn prometheus_float(v: f64) -> String {
    let abs = v.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) { go_f(v) } else { go_e(v) }
}

fn ms(t: &Json) -> i64 {
    (t.as_f64().unwrap_or(f64::NAN) * 1000.0).round() as i64
}

fn point(p: &Json) -> (i64, String) {
    (ms(&p[0]), p[1].as_str().unwrap_or("?").to_string())
}

fn label_map(m: &Json) -> LabelMap {
    m.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").into())).collect())
        .unwrap_or_default()
}

/// Prometheus' JSON response.
pub fn from_prometheus(body: &str) -> Norm {
    let Ok(j) = serde_json::from_str::<Json>(body) else {
        return Norm::Error("unparsable".into(), format!("unparsable response: {body}"));
    };
    if j["status"] != "success" {
        let kind = j["errorType"].as_str().unwrap_or("").to_string();
        return Norm::Error(kind, j["error"].as_str().unwrap_or("").into());
    }
    let r = &j["data"]["result"];
    match j["data"]["resultType"].as_str() {
        Some("scalar") => {
            let (t, v) = point(r);
            Norm::Scalar(t, v)
        }
        Some("string") => {
            let (t, v) = point(r);
            Norm::Str(t, v)
        }
        Some("vector") => Norm::Vector(
            r.as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let (t, v) = point(&s["value"]);
                    (label_map(&s["metric"]), t, v)
                })
                .collect(),
        ),
        _ => Norm::Matrix(
            r.as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let pts = s["values"].as_array().into_iter().flatten().map(point).collect();
                    (label_map(&s["metric"]), pts)
                })
                .collect(),
        ),
    }
}

fn pharos_labels(l: &model::Labels) -> LabelMap {
    l.iter().map(|x| (x.name.to_string(), x.value.to_string())).collect()
}

/// Pharos' engine result.
pub fn from_pharos(r: Result<QueryResult, QueryError>) -> Norm {
    let r = match r {
        Ok(r) => r,
        Err(e) => return Norm::Error(e.error_type().into(), e.to_string()),
    };
    match r.value {
        // Prometheus prints a scalar result with `strconv.FormatFloat(v, 'f', -1, 64)`, never
        // with an exponent (promql.Scalar's MarshalJSON), unlike samples.
        Value::Scalar { t, v } if v.is_finite() => Norm::Scalar(t, go_f(v)),
        Value::Scalar { t, v } => Norm::Scalar(t, go_float(v)),
        Value::String { t, v } => Norm::Str(t, v),
        Value::Vector(v) => {
            Norm::Vector(v.iter().map(|s| (pharos_labels(&s.labels), s.t, go_float(s.v))).collect())
        }
        Value::Matrix(m) => Norm::Matrix(
            m.iter()
                .map(|s| {
                    let pts = s.samples.iter().map(|p| (p.t, go_float(p.v))).collect();
                    (pharos_labels(&s.labels), pts)
                })
                .collect(),
        ),
    }
}

/// How a query's results are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mode {
    /// The vector's order is part of the result (`sort`, `sort_desc`).
    pub ordered: bool,
    /// Relative tolerance for values, for computations whose float algorithm changed after
    /// Prometheus 2.42 (0 = exact strings).
    pub tolerance: f64,
}

fn values_equal(a: &str, b: &str, tol: f64) -> bool {
    if a == b {
        return true;
    }
    if tol == 0.0 {
        return false;
    }
    let (Ok(x), Ok(y)) = (parse(a), parse(b)) else { return false };
    if x.is_nan() || y.is_nan() || x.is_infinite() || y.is_infinite() {
        return false;
    }
    (x - y).abs() <= tol * x.abs().max(y.abs()).max(f64::MIN_POSITIVE)
}

fn parse(s: &str) -> Result<f64, std::num::ParseFloatError> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s.parse(),
    }
}

/// Compares two results; `None` when equal, else a description of the first difference.
pub fn diff(prom: &Norm, pharos: &Norm, mode: Mode) -> Option<String> {
    match (prom, pharos) {
        (Norm::Error(k1, m1), Norm::Error(k2, m2)) => (k1 != k2)
            .then(|| format!("error types differ: prometheus {k1} {m1:?} vs pharos {k2} {m2:?}")),
        (Norm::Scalar(t1, a), Norm::Scalar(t2, b)) | (Norm::Str(t1, a), Norm::Str(t2, b)) => {
            (t1 != t2 || !values_equal(a, b, mode.tolerance))
                .then(|| format!("prometheus {t1} {a} vs pharos {t2} {b}"))
        }
        (Norm::Vector(a), Norm::Vector(b)) => diff_vector(a, b, mode),
        (Norm::Matrix(a), Norm::Matrix(b)) => diff_matrix(a, b, mode.tolerance),
        _ => Some(format!("prometheus {} vs pharos {}", short(prom), short(pharos))),
    }
}

fn short(n: &Norm) -> String {
    let s = format!("{n:?}");
    if s.len() > 300 { format!("{}...", &s[..300]) } else { s }
}

fn diff_vector(
    a: &[(LabelMap, i64, String)],
    b: &[(LabelMap, i64, String)],
    mode: Mode,
) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!(
            "{} vs {} samples; prometheus {:?} pharos {:?}",
            a.len(),
            b.len(),
            a.iter().take(3).collect::<Vec<_>>(),
            b.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if mode.ordered {
        for (x, y) in a.iter().zip(b) {
            if !values_equal(&x.2, &y.2, mode.tolerance) {
                return Some(format!("order differs: prometheus {x:?} pharos {y:?}"));
            }
        }
    }
    let mut a: Vec<_> = a.to_vec();
    let mut b: Vec<_> = b.to_vec();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    for (x, y) in a.iter().zip(&b) {
        if x.0 != y.0 || x.1 != y.1 || !values_equal(&x.2, &y.2, mode.tolerance) {
            return Some(format!("prometheus {x:?} vs pharos {y:?}"));
        }
    }
    None
}

fn diff_matrix(
    a: &[(LabelMap, Vec<(i64, String)>)],
    b: &[(LabelMap, Vec<(i64, String)>)],
    tol: f64,
) -> Option<String> {
    let mut a: Vec<_> = a.iter().collect();
    let mut b: Vec<_> = b.iter().collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    if a.len() != b.len() {
        let la: Vec<_> = a.iter().map(|x| &x.0).take(4).collect();
        let lb: Vec<_> = b.iter().map(|x| &x.0).take(4).collect();
        return Some(format!("{} vs {} series; prometheus {la:?} pharos {lb:?}", a.len(), b.len()));
    }
    for (x, y) in a.iter().zip(&b) {
        if x.0 != y.0 {
            return Some(format!("labels: prometheus {:?} vs pharos {:?}", x.0, y.0));
        }
        if x.1.len() != y.1.len() {
            return Some(format!(
                "{:?}: {} vs {} points; first prometheus {:?} pharos {:?}",
                x.0,
                x.1.len(),
                y.1.len(),
                x.1.first(),
                y.1.first()
            ));
        }
        for (p, q) in x.1.iter().zip(&y.1) {
            if p.0 != q.0 || !values_equal(&p.1, &q.1, tol) {
                return Some(format!("{:?}: prometheus {p:?} vs pharos {q:?}", x.0));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        // 3829.86553955078125 exactly: 13^7 / 4^7.
        assert_eq!(go_float(62_748_517.0 / 16_384.0), "3829.8655395507812");
        assert_eq!(go_float(0.1), "0.1");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(0.0), "0");
        assert_eq!(go_float(-0.0), "-0");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-07");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(1e-6), "0.000001");
        assert_eq!(go_f(1e22), "10000000000000000000000");
        assert_eq!(go_float(5e-324), "5e-324");
    }
}
