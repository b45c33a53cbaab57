//! Specific messages for queries `promql-parser` rejects only with "invalid promql query":
//! common mistakes are recognised on a light tokenisation of the text and worded as
//! Prometheus' parser words them, with the offset of the offending token.

/// A token of the query text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Ident,
    Number,
    Str,
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    kind: Kind,
    start: usize,
    text: &'a str,
}

impl Tok<'_> {
    /// How Prometheus' parser names the token in "unexpected ..." messages.
    fn describe(&self) -> String {
        match self.kind {
            Kind::Ident if KEYWORDS.contains(&self.text.to_ascii_lowercase().as_str()) => {
                format!("<{}>", self.text.to_ascii_lowercase())
            }
            Kind::Ident => format!("identifier {:?}", self.text),
            Kind::Number => format!("number {:?}", self.text),
            Kind::Str => format!("string {:?}", self.text),
            Kind::Punct => format!("{:?}", self.text),
        }
    }
}

const KEYWORDS: &[&str] = &["by", "without", "on", "ignoring", "group_left", "group_right", "bool"];

const AGGREGATIONS: &[&str] = &[
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
];

const COMPARISONS: &[&str] = &["==", "!=", ">", "<", ">=", "<="];

/// Splits `q` into tokens; `None` if it contains something this tokeniser does not know.
fn tokens(q: &str) -> Option<Vec<Tok<'_>>> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            Kind::Ident
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            Kind::Number
        } else if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' && c != b'`' {
                    i += 1;
                }
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            i += 1;
            Kind::Str
        } else {
            let two = q.get(i..i + 2).unwrap_or("");
            i += if ["==", "!=", ">=", "<=", "=~", "!~"].contains(&two) { 2 } else { 1 };
            if !q.is_char_boundary(i) {
                return None;
            }
            Kind::Punct
        };
        out.push(Tok { kind, start, text: &q[start..i] });
    }
    Some(out)
}

/// The index of the token closing the bracket opened at `open`.
fn closing(toks: &[Tok], open: usize) -> Option<usize> {
    let (o, c) = match toks[open].text {
        "(" => ("(", ")"),
        "[" => ("[", "]"),
        "{" => ("{", "}"),
        _ => return None,
    };
    let mut depth = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.kind != Kind::Punct {
            continue;
        }
        if t.text == o {
            depth += 1;
        } else if t.text == c {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// `(offset, message)` for a query the parser rejected without details, if recognised.
pub(crate) fn explain(q: &str) -> Option<(usize, String)> {
    let toks = tokens(q)?;
    let end = q.trim_end().len();
    let at = |k: usize| toks.get(k).map_or(end, |t| t.start);
    let desc = |k: usize| toks.get(k).map_or("end of input".to_string(), Tok::describe);
    for (k, t) in toks.iter().enumerate() {
        let lower = t.text.to_ascii_lowercase();
        if t.kind == Kind::Ident && AGGREGATIONS.contains(&lower.as_str()) {
            let next = toks.get(k + 1).map(|t| t.text.to_ascii_lowercase());
            if matches!(next.as_deref(), Some("by" | "without")) {
                // `sum by (job) (...)`: grouping first, then the parenthesised arguments.
                if toks.get(k + 2).map(|t| t.text) != Some("(") {
                    return Some((at(k + 2), grouping_msg(&desc(k + 2))));
                }
                let close = closing(&toks, k + 2)?;
                if toks.get(close + 1).map(|t| t.text) != Some("(") {
                    return Some((
                        at(close + 1),
                        format!("unexpected {} in aggregation", desc(close + 1)),
                    ));
                }
            } else if next.as_deref() == Some("(") {
                // `sum(...) by job`: grouping after the arguments.
                let close = closing(&toks, k + 1)?;
                let after = toks.get(close + 1).map(|t| t.text.to_ascii_lowercase());
                if matches!(after.as_deref(), Some("by" | "without"))
                    && toks.get(close + 2).map(|t| t.text) != Some("(")
                {
                    return Some((at(close + 2), grouping_msg(&desc(close + 2))));
                }
            }
        }
        if t.kind == Kind::Punct && t.text == "@" {
            let next = toks.get(k + 1);
            let ok = next.is_some_and(|n| {
                n.kind == Kind::Number
                    || ["-", "+", "("].contains(&n.text)
                    || ["start", "end"].contains(&n.text)
            });
            if !ok {
                return Some((
                    at(k + 1),
                    format!("unexpected {} in @, expected timestamp", desc(k + 1)),
                ));
            }
        }
        if t.kind == Kind::Ident && lower == "bool" && k > 0 {
            let prev = toks[k - 1];
            if !(prev.kind == Kind::Punct && COMPARISONS.contains(&prev.text)) {
                return Some((t.start, "unexpected <bool>".to_string()));
            }
        }
        if t.kind == Kind::Punct && t.text == "{" && k > 0 && toks[k - 1].text == "}" {
            return Some((t.start, "unexpected \"{\"".to_string()));
        }
    }
    None
}

/// The offset of the operator a misplaced `bool` follows.
pub(crate) fn operator_before_bool(q: &str) -> Option<usize> {
    let toks = tokens(q)?;
    let k =
        toks.iter().position(|t| t.kind == Kind::Ident && t.text.eq_ignore_ascii_case("bool"))?;
    toks.get(k.checked_sub(1)?).map(|t| t.start)
}

/// The offset of the first aggregation operator.
pub(crate) fn first_aggregation(q: &str) -> Option<usize> {
    let toks = tokens(q)?;
    toks.iter()
        .find(|t| {
            t.kind == Kind::Ident && AGGREGATIONS.contains(&t.text.to_ascii_lowercase().as_str())
        })
        .map(|t| t.start)
}

fn grouping_msg(tok: &str) -> String {
    format!("unexpected {tok} in grouping opts, expected \"(\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_mistakes() {
        let cases = [
            ("sum by (job) rate(foo[5m])", 13, "unexpected identifier \"rate\" in aggregation"),
            (
                "sum(foo) by job",
                12,
                "unexpected identifier \"job\" in grouping opts, expected \"(\"",
            ),
            (
                "sum without job (foo)",
                12,
                "unexpected identifier \"job\" in grouping opts, expected \"(\"",
            ),
            ("foo @ bar", 6, "unexpected identifier \"bar\" in @, expected timestamp"),
            ("foo bool 1", 4, "unexpected <bool>"),
            ("foo{job=\"a\"}{job=\"b\"}", 12, "unexpected \"{\""),
        ];
        for (q, off, msg) in cases {
            assert_eq!(explain(q), Some((off, msg.to_string())), "{q}");
        }
        assert_eq!(explain("a b"), None);
        assert_eq!(explain("sum by (job) (rate(foo[5m]))"), None);
        assert_eq!(explain("foo @ 100 + bar @ start()"), None);
        assert_eq!(explain("foo > bool 1"), None);
    }
}
