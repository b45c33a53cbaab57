//! Source positions for annotations: where an expression starts in the query text.
//!
//! The parser does not keep positions, so they are recovered from the text: a selector starts
//! at its metric name (or `{`), other expressions at their first selector.

use crate::ast::Expr;

/// Byte offset where `e` starts in `query`, if it can be found.
pub(crate) fn of_expr(query: &str, e: &Expr) -> Option<usize> {
    match e {
        Expr::VectorSelector(vs) | Expr::MatrixSelector { vs, .. } => match &vs.name {
            Some(name) => find_ident(query, name),
            None => query.find('{'),
        },
        Expr::Number(v) => find_number(query, *v),
        Expr::String(_) | Expr::InvalidUtf8(_) => None,
        other => other.children().first().and_then(|c| of_expr(query, c)),
    }
}

/// The first literal spelling `v` in the query.
fn find_number(query: &str, v: f64) -> Option<usize> {
    let text = if v.is_nan() {
        "nan".to_string()
    } else if v.is_infinite() {
        "inf".to_string()
    } else {
        format!("{v}")
    };
    let lower = query.to_ascii_lowercase();
    find_ident(&lower, &text)
}

/// The first occurrence of `name` as a whole identifier.
pub(crate) fn find_ident(query: &str, name: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(i) = query[from..].find(name) {
        let at = from + i;
        let before = query[..at].chars().next_back();
        let after = query[at + name.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_selectors() {
        let q = "rate(foo_bar[5m]) + foo";
        let e = crate::parser::parse(q).unwrap();
        let Expr::Binary { lhs, rhs, .. } = &e else { panic!() };
        assert_eq!(of_expr(q, lhs), Some(5));
        assert_eq!(of_expr(q, rhs), Some(20));
    }
}
