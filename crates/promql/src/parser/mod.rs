//! The only door to the `promql-parser` crate: parsing with limits, formatting, JSON and
//! selector parsing for the HTTP API.
//!
//! Limits are checked on the text before parsing and on the tree iteratively before any
//! recursion, so a deeply nested query yields an error, never a stack overflow.

mod convert;
mod errors;
mod generic_errors;
mod limits;
mod strings;

use model::Matcher;

use crate::QueryError;
use crate::ast::Expr;

pub use limits::{MAX_DEPTH, MAX_QUERY_LEN};

/// Parses `query` into the engine's syntax tree.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    let raw = parse_raw(query)?;
    let mut e = convert::convert(&raw)?;
    let invalid = strings::invalid_utf8_literals(query);
    if !invalid.is_empty() {
        mark_invalid_utf8(&mut e, &invalid);
    }
    Ok(e)
}

/// Replaces string literals that are not UTF-8 in Go by [`Expr::InvalidUtf8`] (the tree's
/// depth is already limited, so recursion is bounded).
fn mark_invalid_utf8(e: &mut Expr, lits: &[strings::InvalidLiteral]) {
    match e {
        Expr::String(s) => {
            if let Some(l) = lits.iter().find(|l| l.parsed == *s) {
                *e = Expr::InvalidUtf8(l.bytes.clone());
            }
        }
        Expr::Subquery { expr, .. } | Expr::Neg(expr) | Expr::Paren(expr) => {
            mark_invalid_utf8(expr, lits)
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(|a| mark_invalid_utf8(a, lits)),
        Expr::Aggregate { expr, param, .. } => {
            mark_invalid_utf8(expr, lits);
            if let Some(p) = param {
                mark_invalid_utf8(p, lits);
            }
        }
        Expr::Binary { lhs, rhs, .. } => {
            mark_invalid_utf8(lhs, lits);
            mark_invalid_utf8(rhs, lits);
        }
        Expr::Number(_)
        | Expr::InvalidUtf8(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector { .. } => {}
    }
}

/// How messages show a string argument: Go-style `\xNN` for bytes that are not UTF-8.
pub(crate) fn invalid_utf8_display(e: &Expr) -> Option<String> {
    match e.unparen() {
        Expr::InvalidUtf8(b) => Some(strings::display_bytes(b)),
        _ => None,
    }
}

/// Pretty-prints a query as `/api/v1/format_query` does.
pub fn format_query(query: &str) -> Result<String, QueryError> {
    let mut raw = parse_raw(query)?;
    convert::convert(&raw)?;
    go_numbers(&mut raw);
    Ok(raw.prettify())
}

/// Number literals as Go's `%v` prints them (`1e+21`, `1e-07`, `+Inf`; promql-parser prints
/// Rust's digits without exponent), before the pretty printer measures the lines: each becomes
/// a bare selector named by its text, which prints as exactly that.
fn go_numbers(e: &mut promql_parser::parser::Expr) {
    use promql_parser::parser::{Expr as E, VectorSelector};
    match e {
        E::NumberLiteral(n) => {
            let text = model::go_float::g(n.val);
            *e = E::VectorSelector(VectorSelector::new(
                Some(text),
                promql_parser::label::Matchers::empty(),
            ));
        }
        E::Aggregate(a) => {
            go_numbers(&mut a.expr);
            if let Some(p) = a.param.as_mut() {
                go_numbers(p);
            }
        }
        E::Unary(u) => go_numbers(&mut u.expr),
        E::Binary(b) => {
            go_numbers(&mut b.lhs);
            go_numbers(&mut b.rhs);
        }
        E::Paren(p) => go_numbers(&mut p.expr),
        E::Subquery(s) => go_numbers(&mut s.expr),
        E::Call(c) => c.args.args.iter_mut().for_each(|a| go_numbers(a)),
        E::StringLiteral(_) | E::VectorSelector(_) | E::MatrixSelector(_) | E::Extension(_) => {}
    }
}

/// The syntax tree as JSON, for `/api/v1/parse_query`.
pub fn parse_to_json(query: &str) -> Result<serde_json::Value, QueryError> {
    let raw = parse_raw(query)?;
    convert::convert(&raw)?;
    serde_json::to_value(&raw).map_err(|e| QueryError::Execution(e.to_string()))
}

/// Parses a series selector (`match[]` parameter) into its matchers, as Go's
/// `ParseMetricSelector`: by the grammar alone, without the checks a query's selector gets, so
/// a selector may match the empty string (the API refuses that itself, in its own words) and
/// may name the metric twice (`up{__name__="x"}` selects nothing).
pub fn selectors(query: &str) -> Result<Vec<Vec<Matcher>>, QueryError> {
    if query.trim().is_empty() {
        // Go's selector grammar meets the end of the input where it expects a selector.
        let col = query.trim_end_matches('\n').len() + 1;
        return Err(QueryError::Parse(format!("1:{col}: parse error: unexpected end of input")));
    }
    let raw = match parse_raw(query) {
        Err(QueryError::Parse(m)) if is_query_only_check(&m) => {
            let text = unchecked_selector(query).ok_or_else(|| QueryError::Parse(m.clone()))?;
            parse_raw(&text).map_err(|_| QueryError::Parse(m))?
        }
        other => other?,
    };
    match convert::convert(&raw)? {
        Expr::VectorSelector(mut vs) => {
            if vs.offset != 0 || vs.at.is_some() {
                return Err(QueryError::Parse(
                    "parse error: unexpected modifier in series selector".into(),
                ));
            }
            vs.matchers.retain(|m| m.name != PLACEHOLDER);
            Ok(vec![vs.matchers])
        }
        other => Err(QueryError::Parse(format!(
            "parse error: expected type instant vector in series selector, got {}",
            type_name(other.value_type())
        ))),
    }
}

/// The type name Prometheus uses in messages ("instant vector", "range vector", ...).
pub(crate) fn type_name(t: crate::ast::ValueType) -> &'static str {
    match t {
        crate::ast::ValueType::Vector => "instant vector",
        crate::ast::ValueType::Matrix => "range vector",
        other => other.name(),
    }
}

/// Functions of Prometheus 2 that the parser crate no longer knows: `holt_winters` (the name of
/// `double_exponential_smoothing` before Prometheus 3), so that 2.x queries keep working.
fn register_v2_functions() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use promql_parser::parser::value::ValueType as T;
        use promql_parser::parser::{Function, register_extra_functions};
        let hw = Function::new(
            "holt_winters",
            vec![T::Matrix, T::Scalar, T::Scalar],
            0,
            T::Vector,
            false,
        );
        // Fails only if a later parser version has the function built in, which is as good.
        let _ = register_extra_functions(vec![hw]);
    });
}

/// A label no selector uses, added to make a selector pass the query-only checks.
const PLACEHOLDER: &str = "__pharos_selector_placeholder__";

/// The checks promql-parser makes on every selector that Go's parser makes on a query's
/// selectors only.
fn is_query_only_check(msg: &str) -> bool {
    msg.contains("vector selector must contain at least one non-empty matcher")
        || msg.contains("metric name must not be set twice")
}

/// `name{m, ...}` as `{__name__="name", m, ..., PLACEHOLDER="x"}`: the same matchers plus one
/// that matches no empty value, with no metric name outside the braces, which passes those
/// checks; `None` when the text is not of that shape.
fn unchecked_selector(query: &str) -> Option<String> {
    let t = query.trim();
    let inner = t.strip_suffix('}')?;
    let open = inner.find('{')?;
    let (name, inner) = (inner[..open].trim(), inner[open + 1..].trim_end());
    let ident = |s: &str| {
        s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    };
    let mut out = String::from("{");
    if !name.is_empty() {
        if !ident(name) {
            return None;
        }
        out.push_str(&format!("__name__=\"{name}\","));
    }
    out.push_str(inner);
    if !(inner.is_empty() || inner.ends_with(',')) {
        out.push(',');
    }
    out.push_str(PLACEHOLDER);
    out.push_str("=\"x\"}");
    Some(out)
}

fn parse_raw(query: &str) -> Result<promql_parser::parser::Expr, QueryError> {
    register_v2_functions();
    limits::check_text(query)?;
    if query.trim().is_empty() {
        // Go reports it at the start of the input, whatever precedes the end.
        return Err(QueryError::Parse("1:1: parse error: no expression found in input".into()));
    }
    let raw = promql_parser::parser::parse(query)
        .map_err(|e| QueryError::Parse(errors::parse_error(query, &e)))?;
    limits::check_tree(&raw)?;
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_query_prints_numbers_as_go() {
        let f = |q: &str| format_query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(f("1e-7 * up"), "1e-07 * up");
        assert_eq!(f("up > 1e21"), "up > 1e+21");
        assert_eq!(f("123456789.125"), "1.23456789125e+08");
        assert_eq!(f("topk(5, rate(x[5m]))"), "topk(5, rate(x[5m]))");
        assert_eq!(f("1e308 * 10"), "1e+308 * 10");
    }

    #[test]
    fn selectors_are_checked_by_the_grammar_only() {
        let names = |q: &str| -> Vec<String> {
            let sets = selectors(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            sets[0].iter().map(|m| m.to_string()).collect()
        };
        assert_eq!(names("{}"), Vec::<String>::new());
        assert_eq!(names("{job=~\"\"}"), vec!["job=~\"\""]);
        assert_eq!(names(" {job=\"\",} "), vec!["job=\"\""]);
        assert_eq!(names("up{__name__!~\"x\"}").len(), 2);
        assert_eq!(names("up{__name__=\"up\", job=\"a\"}").len(), 3);
        assert!(selectors("up{").is_err());
        assert_eq!(
            selectors("").err().map(|e| e.to_string()),
            Some("1:1: parse error: unexpected end of input".into())
        );
        assert!(selectors("rate(up[5m])").is_err());
        // A query keeps its checks.
        assert!(parse("{job=\"\"}").is_err());
        assert!(parse("up{__name__=\"x\"}").is_err());
    }

    #[test]
    fn parses_and_rejects() {
        assert!(parse("sum by (job) (rate(foo[5m]))").is_ok());
        assert!(parse("foo{").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(matches!(parse(&deep), Err(QueryError::Parse(_))));
        let chain = vec!["1"; 50_000].join("+");
        assert!(matches!(parse(&chain), Err(QueryError::Parse(_))));
        let neg = format!("{}1", "-".repeat(50_000));
        assert!(matches!(parse(&neg), Err(QueryError::Parse(_))));
    }

    #[test]
    fn selectors_for_match_params() {
        let s = selectors(r#"up{job="a"}"#).unwrap();
        assert_eq!(s[0].len(), 2);
        assert!(selectors("rate(up[5m])").is_err());
    }

    #[test]
    fn format_and_json() {
        assert_eq!(format_query("sum(foo)by(a)").unwrap(), "sum by (a) (foo)");
        assert!(parse_to_json("foo + 1").unwrap().is_object());
    }
}
