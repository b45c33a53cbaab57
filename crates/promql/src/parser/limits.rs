//! Query length and nesting limits, checked without recursion.

use promql_parser::parser::Expr as RawExpr;

use crate::QueryError;

/// Longest accepted query text in bytes.
pub const MAX_QUERY_LEN: usize = 256 * 1024;
/// Deepest accepted syntax tree (parentheses, operators, calls).
pub const MAX_DEPTH: usize = 400;
/// Most operators accepted in one query (each may add a level to the tree).
const MAX_OPERATORS: usize = 2_000;

/// Checks length, bracket nesting and operator count on the raw text.
pub fn check_text(query: &str) -> Result<(), QueryError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryError::Parse(format!(
            "parse error: query too long ({} bytes, limit {MAX_QUERY_LEN})",
            query.len()
        )));
    }
    let (mut depth, mut max_depth, mut ops) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in query.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '^' | '<' | '>' | '=' | '!' => ops += 1,
            _ => {}
        }
    }
    if max_depth > MAX_DEPTH || ops > MAX_OPERATORS {
        return Err(too_deep());
    }
    Ok(())
}

fn too_deep() -> QueryError {
    QueryError::Parse(format!("parse error: query is nested too deeply (limit {MAX_DEPTH})"))
}

/// Checks the parsed tree's depth with an explicit stack.
pub fn check_tree(root: &RawExpr) -> Result<(), QueryError> {
    let mut stack: Vec<(&RawExpr, usize)> = vec![(root, 1)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_DEPTH {
            return Err(too_deep());
        }
        for c in raw_children(e) {
            stack.push((c, d + 1));
        }
    }
    Ok(())
}

/// Direct children of a parser node.
pub fn raw_children(e: &RawExpr) -> Vec<&RawExpr> {
    match e {
        RawExpr::Aggregate(a) => {
            let mut v = vec![&*a.expr];
            if let Some(p) = &a.param {
                v.push(p);
            }
            v
        }
        RawExpr::Unary(u) => vec![&*u.expr],
        RawExpr::Binary(b) => vec![&*b.lhs, &*b.rhs],
        RawExpr::Paren(p) => vec![&*p.expr],
        RawExpr::Subquery(s) => vec![&*s.expr],
        RawExpr::Call(c) => c.args.args.iter().map(|a| &**a).collect(),
        _ => vec![],
    }
}
