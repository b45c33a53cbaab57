//! Parse errors as Prometheus words them: `line:col: parse error: message`.
//!
//! `promql-parser` reports messages without positions and words some of them differently; this
//! module finds the position Prometheus would report from the message and the query text where
//! that is determinable, and rewrites type names and quoting to Prometheus' wording.

/// The full error text for a `promql-parser` message about `query`.
pub(crate) fn parse_error(query: &str, msg: &str) -> String {
    let msg = if msg == GENERIC && ends_with_binary_operator(query) {
        // An expression cut off after an operator, the commonest half-typed query.
        "unexpected end of input".to_string()
    } else if msg == GENERIC
        && let Some((off, m)) = super::generic_errors::explain(query)
    {
        return format!("{}: parse error: {m}", line_col(query, off));
    } else {
        reword(msg)
    };
    match position(query, &msg) {
        Some(off) => format!("{}: parse error: {msg}", line_col(query, off)),
        None => format!("parse error: {msg}"),
    }
}

/// What `promql-parser` says when its grammar rejects the input without details.
const GENERIC: &str = "invalid promql query";

/// True if the query's last token is a binary operator, so its right-hand side is missing.
fn ends_with_binary_operator(query: &str) -> bool {
    let q = query.trim_end();
    let symbolic = ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<="];
    if symbolic.iter().any(|op| q.ends_with(op)) {
        return true;
    }
    // Past the last non-word character, which may be several bytes long.
    let word_start = q
        .char_indices()
        .rfind(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let (before, word) = q.split_at(word_start);
    let keyword =
        ["and", "or", "unless", "atan2", "bool"].iter().any(|k| word.eq_ignore_ascii_case(k));
    // `foo == bool`: the comparison's right-hand side is missing.
    if word.eq_ignore_ascii_case("bool") && before.trim_end().ends_with(['=', '>', '<']) {
        return true;
    }
    // A bare keyword could be a metric name; it is an operator only after an operand.
    keyword
        && before.trim_end().ends_with(|c: char| c.is_ascii_alphanumeric() || ")]}_\"'".contains(c))
}

/// `line:col` of a byte offset, both 1-based, as Prometheus' `ParseErr` prints them.
fn line_col(query: &str, off: usize) -> String {
    let off = off.min(query.len());
    let before = &query.as_bytes()[..off];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
    format!("{line}:{}", off - line_start + 1)
}

/// Prometheus' type names and double-quoted identifiers.
fn reword(msg: &str) -> String {
    let mut m = msg.to_string();
    for (from, to) in [
        ("expected type matrix", "expected type range vector"),
        ("expected type vector", "expected type instant vector"),
        ("got matrix", "got range vector"),
        ("got vector", "got instant vector"),
        ("in aggregation expression", "in aggregation parameter"),
        ("unexpected end of input inside brackets", "unclosed left bracket"),
    ] {
        m = m.replace(from, to);
    }
    for prefix in ["function '", "name '", "call to '", "operator '", "unexpected identifier '"] {
        m = requote(&m, prefix);
    }
    m
}

/// `prefix'x'` to `prefix"x"` (the prefix without its quote kept).
fn requote(m: &str, prefix: &str) -> String {
    let Some(start) = m.find(prefix) else { return m.to_string() };
    let open = start + prefix.len() - 1;
    let Some(len) = m[open + 1..].find('\'') else { return m.to_string() };
    let close = open + 1 + len;
    format!("{}\"{}\"{}", &m[..open], &m[open + 1..close], &m[close + 1..])
}

/// The byte offset Prometheus reports for `msg`, when it can be told from the text.
fn position(query: &str, msg: &str) -> Option<usize> {
    let first_token = query.len() - query.trim_start().len();
    if msg.contains("end of input")
        || msg.starts_with("unclosed left parenthesis")
        || msg.starts_with("unclosed left bracket")
        || msg.starts_with("unterminated quoted string")
    {
        return Some(query.trim_end().len());
    }
    if let Some(ch) = quoted_char(msg, "unexpected right ") {
        return unbalanced_close(query, ch).map(|p| p + 1);
    }
    if let Some(ch) = quoted_char(msg, "unexpected character inside braces: ") {
        return find_after(query, '{', ch);
    }
    if let Some(ch) = quoted_char(msg, "unexpected character inside brackets: ") {
        return find_after(query, '[', ch);
    }
    if let Some(ch) = quoted_char(msg, "unexpected character after '!': ") {
        return query.find(&format!("!{ch}"));
    }
    if let Some(ch) = quoted_char(msg, "unexpected character: ") {
        return query.find(ch);
    }
    if msg.starts_with("unexpected second colon") {
        let open = query.find('[')?;
        let first = open + query[open..].find(':')?;
        return query[first + 1..].find(':').map(|p| first + 1 + p);
    }
    if let Some(f) = quoted_name(msg, "in call to function \"") {
        // Type errors point at the argument; the first one is the usual culprit.
        return call_start(query, &f).map(|p| p + f.len() + 1);
    }
    if let Some(f) = quoted_name(msg, "unknown function with name \"")
        .or_else(|| quoted_name(msg, "in call to \""))
    {
        return call_start(query, &f);
    }
    if let Some(v) = quoted_name(msg, "unexpected identifier \"")
        && msg.contains("in label matching")
    {
        return label_value_ident(query, &v);
    }
    if msg.starts_with("ranges only allowed for vector selectors") {
        return query.rfind('[');
    }
    if msg.starts_with("trailing commas not allowed") {
        return query.rfind(',').filter(|c| query[c + 1..].trim_start().starts_with(')'));
    }
    if msg.starts_with("bool modifier can only be used on comparison operators") {
        return super::generic_errors::operator_before_bool(query);
    }
    if msg.starts_with("wrong number of arguments for aggregate expression") {
        return super::generic_errors::first_aggregation(query);
    }
    if msg.starts_with("comparisons between scalars must use BOOL modifier") {
        return ["==", "!=", ">=", "<=", ">", "<"].iter().filter_map(|op| query.find(op)).min();
    }
    if msg.starts_with("binary expression must contain only")
        || msg.starts_with("set operator")
        || msg.starts_with("vector selector must contain")
    {
        return Some(first_token);
    }
    if msg.starts_with("no expression found") {
        return Some(0);
    }
    None
}

fn quoted_char(msg: &str, prefix: &str) -> Option<char> {
    let rest = msg.strip_prefix(prefix)?;
    let q = rest.find('\'')?;
    rest[q + 1..].chars().next()
}

fn quoted_name(msg: &str, marker: &str) -> Option<String> {
    let start = msg.find(marker)? + marker.len();
    let len = msg[start..].find('"')?;
    Some(msg[start..start + len].to_string())
}

/// The first closing `ch` without a matching opener (outside strings).
fn unbalanced_close(query: &str, ch: char) -> Option<usize> {
    let open = match ch {
        ')' => '(',
        ']' => '[',
        '}' => '{',
        _ => return query.find(ch),
    };
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in query.char_indices() {
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
            c if c == open => depth += 1,
            c if c == ch => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Where the unquoted label value `v` stands after a matcher operator inside braces.
fn label_value_ident(query: &str, v: &str) -> Option<usize> {
    let mut from = query.find('{')?;
    while let Some(p) = query[from..].find(v) {
        let at = from + p;
        let before = query[..at].trim_end();
        if before.ends_with('=') || before.ends_with('~') {
            return Some(at);
        }
        from = at + v.len();
    }
    None
}

fn find_after(query: &str, open: char, ch: char) -> Option<usize> {
    let o = query.find(open)?;
    query[o + 1..].find(ch).map(|p| o + 1 + p)
}

/// Where `name(` starts in the query (an identifier boundary before it).
fn call_start(query: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = query[from..].find(name) {
        let at = from + p;
        let before_ok = query[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
        let after = query[at + name.len()..].trim_start();
        if before_ok && after.starts_with('(') {
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
    fn positions_and_wording_like_prometheus() {
        let cases = [
            (
                "foo{",
                "unexpected end of input inside braces",
                "1:5: parse error: unexpected end of input inside braces",
            ),
            ("sum(foo", "unclosed left parenthesis", "1:8: parse error: unclosed left parenthesis"),
            (
                ")",
                "unexpected right parenthesis ')'",
                "1:2: parse error: unexpected right parenthesis ')'",
            ),
            (
                "rate(foo)",
                "expected type matrix in call to function 'rate', got vector",
                "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
            ),
            (
                "unknownfn(foo)",
                "unknown function with name 'unknownfn'",
                "1:1: parse error: unknown function with name \"unknownfn\"",
            ),
            (
                "1 == 1",
                "comparisons between scalars must use BOOL modifier",
                "1:3: parse error: comparisons between scalars must use BOOL modifier",
            ),
            (
                "foo and 1",
                "set operator 'and' not allowed in binary scalar expression",
                "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
            ),
            (
                "rate(foo[5m:1m:1m])",
                "unexpected second colon(:) in brackets",
                "1:15: parse error: unexpected second colon(:) in brackets",
            ),
            ("a b", "invalid promql query", "parse error: invalid promql query"),
            (
                "foo[5m",
                "unexpected end of input inside brackets",
                "1:7: parse error: unclosed left bracket",
            ),
            (
                "foo{job=a}",
                "unexpected identifier 'a' in label matching, expected string",
                "1:9: parse error: unexpected identifier \"a\" in label matching, expected string",
            ),
            (
                "sum(foo,)",
                "trailing commas not allowed in function call args",
                "1:8: parse error: trailing commas not allowed in function call args",
            ),
            (
                "rate(foo[5m]) [5m]",
                "ranges only allowed for vector selectors",
                "1:15: parse error: ranges only allowed for vector selectors",
            ),
            (
                "foo + bool bar",
                "bool modifier can only be used on comparison operators",
                "1:5: parse error: bool modifier can only be used on comparison operators",
            ),
            ("foo == bool", "invalid promql query", "1:12: parse error: unexpected end of input"),
            (
                "sum by (job) rate(foo[5m])",
                "invalid promql query",
                "1:14: parse error: unexpected identifier \"rate\" in aggregation",
            ),
            (
                "sum(rate(x[1m])) by (path) +",
                "invalid promql query",
                "1:29: parse error: unexpected end of input",
            ),
            ("up and", "invalid promql query", "1:7: parse error: unexpected end of input"),
            ("and", "invalid promql query", "parse error: invalid promql query"),
            (
                "sum(\n  foo{",
                "unexpected end of input inside braces",
                "2:7: parse error: unexpected end of input inside braces",
            ),
        ];
        for (q, raw, want) in cases {
            assert_eq!(parse_error(q, raw), want, "{q}");
        }
    }
}
