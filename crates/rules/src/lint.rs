//! Pharos' rule lints, beyond promtool's.
//!
//! Ratio of two selections of the same metric that still differ in a label: with the
//! default one-to-one matching on all labels, each series on the left matches only the
//! series with identical labels on the right, which is itself. So
//! `rate(x{status=~"5.."}[5m]) / rate(x[5m])` is 1 for every 5xx series (and the intended
//! error ratio never appears), and `x{a="1"} / x{a="2"}` is always empty.

use std::collections::BTreeSet;

use model::{MatchType, Matcher};
use promql::ast::{BinOp, Expr, VectorSelector};

use crate::rulefmt::RuleFile;

/// Findings for every rule of a file, prefixed with the rule's position.
pub fn lint_file(rf: &RuleFile) -> Vec<String> {
    let mut out = Vec::new();
    for g in &rf.groups {
        for (i, r) in g.rules.iter().enumerate() {
            for w in lint_expr(&r.expr) {
                out.push(format!("group {:?}, rule {}, {:?}: {w}", g.name, i + 1, r.name()));
            }
        }
    }
    out
}

/// Findings for one expression (empty if it does not parse).
pub fn lint_expr(expr: &str) -> Vec<String> {
    let Ok(e) = promql::parser::parse(expr) else { return Vec::new() };
    let mut out = Vec::new();
    walk(&e, &mut out);
    out
}

fn walk(e: &Expr, out: &mut Vec<String>) {
    if let Expr::Binary { op: BinOp::Div, lhs, rhs, matching, .. } = e
        && let (Some(l), Some(r)) = (selection(lhs), selection(rhs))
    {
        let ignored: Vec<String> = match matching {
            Some(m) if m.on => Vec::new(),
            Some(m) => m.labels.clone(),
            None => Vec::new(),
        };
        let uses_on = matching.as_ref().is_some_and(|m| m.on);
        if !uses_on && let Some(w) = self_matching(&l, &r, &ignored) {
            out.push(w);
        }
    }
    for c in e.children() {
        walk(c, out);
    }
}

/// A side that is a bare selector or a range function over one, not aggregated.
struct Selection<'a> {
    func: Option<&'a str>,
    vs: &'a VectorSelector,
    range: Option<i64>,
}

fn selection(e: &Expr) -> Option<Selection<'_>> {
    match e.unparen() {
        Expr::VectorSelector(vs) => Some(Selection { func: None, vs, range: None }),
        Expr::Call { func, args } if args.len() == 1 => match args[0].unparen() {
            Expr::MatrixSelector { vs, range } => {
                Some(Selection { func: Some(func.as_str()), vs, range: Some(*range) })
            }
            _ => None,
        },
        _ => None,
    }
}

fn key(m: &Matcher) -> (String, &'static str, String) {
    (m.name.clone(), m.op.as_str(), m.value.clone())
}

fn self_matching(l: &Selection<'_>, r: &Selection<'_>, ignored: &[String]) -> Option<String> {
    if l.vs.name.is_none() || l.vs.name != r.vs.name {
        return None;
    }
    let lk: BTreeSet<_> = l.vs.matchers.iter().map(key).collect();
    let rk: BTreeSet<_> = r.vs.matchers.iter().map(key).collect();
    let differing: BTreeSet<String> = lk
        .symmetric_difference(&rk)
        .map(|k| k.0.clone())
        .filter(|n| n != model::METRIC_NAME && !ignored.contains(n))
        .collect();
    if differing.is_empty() {
        return None;
    }
    let labels: Vec<String> = differing.iter().map(|d| format!("{d:?}")).collect();
    let labels = labels.join(", ");
    let (ls, rs) = (print(l), print(r));
    let both_equal = differing.iter().all(|d| {
        let eq = |s: &Selection<'_>| {
            s.vs.matchers.iter().any(|m| &m.name == d && m.op == MatchType::Equal)
        };
        eq(l) && eq(r)
    });
    if both_equal {
        return Some(format!(
            "{ls} / {rs}: the two sides select different values of {labels}, and one-to-one matching on all labels never pairs them, so the result is always empty; use ignoring({}) or aggregate both sides",
            differing.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Some(format!(
        "{ls} / {rs}: the sides differ only in {labels}, so one-to-one matching on all labels pairs each series with itself and the ratio is always 1; aggregate away the label on both sides, e.g. sum by (job) ({ls}) / sum by (job) ({rs})"
    ))
}

fn print(s: &Selection<'_>) -> String {
    let mut sel = s.vs.name.clone().unwrap_or_default();
    let ms: Vec<String> =
        s.vs.matchers
            .iter()
            .filter(|m| m.name != model::METRIC_NAME)
            .map(|m| format!("{}{}{:?}", m.name, m.op.as_str(), m.value))
            .collect();
    if !ms.is_empty() {
        sel.push('{');
        sel.push_str(&ms.join(", "));
        sel.push('}');
    }
    if let Some(r) = s.range {
        sel = format!("{sel}[{}]", model::duration::format_duration(r));
    }
    match s.func {
        Some(f) => format!("{f}({sel})"),
        None => sel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_of_the_same_series_is_flagged() {
        let w = lint_expr(
            r#"rate(http_requests_total{status=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.05"#,
        );
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("ratio is always 1"), "{}", w[0]);
        assert!(w[0].contains(r#"sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))"#), "{}", w[0]);
        let w = lint_expr(r#"x{a="1"} / x{a="2"}"#);
        assert!(w[0].contains("always empty"), "{}", w[0]);
    }

    #[test]
    fn correct_ratios_are_not_flagged() {
        for ok in [
            r#"sum by (job) (rate(x{status=~"5.."}[5m])) / sum by (job) (rate(x[5m]))"#,
            r#"rate(x{status=~"5.."}[5m]) / ignoring(status) group_left rate(x[5m])"#,
            r#"rate(x[5m]) / rate(y[5m])"#,
            r#"rate(x{a="1"}[5m]) / on(job) rate(x[5m])"#,
        ] {
            assert!(lint_expr(ok).is_empty(), "{ok}");
        }
    }
}
