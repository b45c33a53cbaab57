//! Whether a group's rules may be evaluated concurrently: only if no rule reads what another
//! rule of the group writes (recording outputs, `ALERTS`, `ALERTS_FOR_STATE`), every selector
//! names its metric literally, and no template runs a query. Otherwise the group runs in
//! order, as Prometheus does without `concurrent-rule-eval`. Results are identical either way.

use std::collections::HashSet;

use model::MatchType;
use promql::ast::{Expr, VectorSelector};

use crate::group::Rule;

/// The literal metric names `expr` selects, or `None` if some selector's name is not literal.
fn selected_names(expr: &str) -> Option<HashSet<String>> {
    let e = promql::parser::parse(expr).ok()?;
    let mut names = HashSet::new();
    collect(&e, &mut names).then_some(names)
}

fn name_of(vs: &VectorSelector) -> Option<String> {
    vs.name.clone().or_else(|| {
        vs.matchers
            .iter()
            .find(|m| m.name == model::METRIC_NAME && m.op == MatchType::Equal)
            .map(|m| m.value.clone())
    })
}

fn collect(e: &Expr, names: &mut HashSet<String>) -> bool {
    let vs = match e {
        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => Some(vs),
        _ => None,
    };
    if let Some(vs) = vs {
        match name_of(vs) {
            Some(n) => {
                names.insert(n);
            }
            None => return false,
        }
    }
    e.children().into_iter().all(|c| collect(c, names))
}

fn outputs(r: &Rule) -> Vec<String> {
    match r {
        Rule::Recording(r) => vec![r.name().to_string()],
        Rule::Alerting(_) => vec!["ALERTS".into(), "ALERTS_FOR_STATE".into()],
    }
}

fn templates_query(r: &Rule) -> bool {
    match r {
        Rule::Recording(_) => false,
        Rule::Alerting(a) => {
            a.labels().iter().chain(a.annotations().iter()).any(|l| l.value.contains("query"))
        }
    }
}

/// True if the rules can run concurrently with identical results.
pub(crate) fn independent(rules: &[Rule]) -> bool {
    if rules.len() < 2 {
        return false;
    }
    let mut inputs = Vec::with_capacity(rules.len());
    for r in rules {
        if templates_query(r) {
            return false;
        }
        match selected_names(r.query()) {
            Some(n) => inputs.push(n),
            None => return false,
        }
    }
    for (i, r) in rules.iter().enumerate() {
        for out in outputs(r) {
            if inputs.iter().enumerate().any(|(j, inp)| j != i && inp.contains(&out)) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertingRule, RecordingRule};
    use model::Labels;

    fn rec(name: &str, expr: &str) -> Rule {
        Rule::Recording(RecordingRule::new(name, expr, Labels::empty()))
    }

    fn alert(expr: &str, ann: &str) -> Rule {
        Rule::Alerting(AlertingRule::new(
            "A",
            expr,
            0,
            0,
            Labels::empty(),
            Labels::new([("a", ann)]),
            Labels::empty(),
            "",
            true,
        ))
    }

    #[test]
    fn dependencies() {
        assert!(independent(&[rec("a", "sum(x)"), rec("b", "rate(y[5m])"), alert("z > 1", "")]));
        assert!(!independent(&[rec("a", "sum(x)"), rec("b", "a * 2")]), "b reads a");
        assert!(
            !independent(&[alert("up == 0", ""), alert("ALERTS", "")]),
            "reads the other alert's ALERTS"
        );
        assert!(independent(&[rec("a", "sum(x)"), rec("b", "b * 2")]), "own output only");
        assert!(!independent(&[rec("a", "sum(x)"), rec("b", "{__name__=~\"x.*\"}")]));
        assert!(!independent(&[rec("a", "sum(x)"), alert("y", "{{ query \"a\" }}")]));
        assert!(!independent(&[rec("a", "sum(x)")]), "a single rule has nothing to overlap");
    }
}
