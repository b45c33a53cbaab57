//! Alertmanager's matcher syntax: `name="value"`, `name=~"re"`, lists `{a="b",c!~"d"}`.
//!
//! Parsing follows Alertmanager 0.25's `pkg/labels` (quotes optional, `\n`, `\"`, `\\`
//! escapes). Matching uses [`model::Matcher::new_dot_excludes_newline`] (Go RE2 semantics,
//! `^(?:re)$` without flags, so `.` does not match a newline). `Display` writes
//! Alertmanager's form, which is part of route keys and therefore of `groupKey`.

use std::fmt;

use model::{Labels, MatchType, Matcher};

use crate::error::Error;

/// A list of matchers that must all match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// True if every matcher accepts the label set (absent labels are `""`).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.0.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }

    /// Sorts as Alertmanager does: by name, then value, then type.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (a.name.as_str(), a.value.as_str(), op_rank(a.op)).cmp(&(
                b.name.as_str(),
                b.value.as_str(),
                op_rank(b.op),
            ))
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn op_rank(op: MatchType) -> u8 {
    match op {
        MatchType::Equal => 0,
        MatchType::NotEqual => 1,
        MatchType::Regex => 2,
        MatchType::NotRegex => 3,
    }
}

/// Writes one matcher as Alertmanager does: `name=~"value"` with `\\`, `\n`, `\"` escaped.
pub fn matcher_string(m: &Matcher) -> String {
    let v = m.value.replace('\\', "\\\\").replace('\n', "\\n").replace('"', "\\\"");
    format!("{}{}\"{}\"", m.name, m.op.as_str(), v)
}

impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&matcher_string(m))?;
        }
        f.write_str("}")
    }
}

/// Builds a matcher, validating the label name and compiling regexes.
pub fn new_matcher(op: MatchType, name: &str, value: &str) -> Result<Matcher, Error> {
    if !valid_label_name(name) {
        return Err(Error::Matcher(format!("invalid label name {name:?}")));
    }
    Matcher::new_dot_excludes_newline(op, name, value)
        .map_err(|e| Error::Matcher(format!("{name}: {e}")))
}

/// Alertmanager's (Prometheus') label name rule.
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `{a="b", c=~"d"}` or `a="b",c=~d` into matchers.
pub fn parse_matchers(s: &str) -> Result<Matchers, Error> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let (mut in_quotes, mut escaped) = (false, false);
    let mut token = String::new();
    for c in s.chars() {
        match c {
            ',' if !in_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            // As in Go's loop, a quoted comma leaves a pending escape pending.
            ',' => {}
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    in_quotes = !in_quotes;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    // Go's strings.TrimSpace (Unicode white space) on the last token only.
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_string());
    }
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        out.push(parse_matcher(&t)?);
    }
    Ok(Matchers(out))
}

/// RE2's `\s`: ASCII white space only (no vertical tab, no Unicode spaces).
fn is_go_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// Parses one `name op value` matcher (Alertmanager's regex
/// `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$`).
pub fn parse_matcher(s: &str) -> Result<Matcher, Error> {
    let bad = || Error::Matcher(format!("bad matcher format: {s}"));
    let t = s.trim_matches(is_go_space);
    let name_end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
        })
        .map_or(t.len(), |(i, _)| i);
    let name = &t[..name_end];
    if name.is_empty() {
        return Err(bad());
    }
    let rest = t[name_end..].trim_start_matches(is_go_space);
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regex, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegex, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else {
        return Err(bad());
    };
    let value = unescape_value(rest.trim_start_matches(is_go_space))?;
    Matcher::new_dot_excludes_newline(op, name, &value)
        .map_err(|e| Error::Matcher(go_regex_error(&e, &format!("^(?:{value})$"))))
}

/// A regex that did not compile, in Go's words for the text Go compiled (`expr`).
pub(crate) fn go_regex_error(e: &model::ModelError, expr: &str) -> String {
    match e {
        model::ModelError::InvalidRegex { reason, .. } => crate::goregex::error_text(expr, reason),
        other => other.to_string(),
    }
}

fn unescape_value(raw: &str) -> Result<String, Error> {
    let unquoted_err =
        || Error::Matcher(format!("matcher value contains unescaped double quote: {raw}"));
    let (raw, mut expect_quote) = match raw.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw, false),
    };
    let mut out = String::with_capacity(raw.len());
    let mut escaped = false;
    let n = raw.len();
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => out.push('\n'),
                '"' | '\\' => out.push(c),
                _ => {
                    out.push('\\');
                    out.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' if i + 1 < n => escaped = true,
            '"' => {
                if !expect_quote || i + 1 < n {
                    return Err(unquoted_err());
                }
                expect_quote = false;
            }
            _ => out.push(c),
        }
    }
    if expect_quote {
        return Err(unquoted_err());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_quotes() {
        let ms =
            parse_matchers(r#"{alertname="Foo", job=~"api|web",sev!=page, x!~"a\"b"}"#).unwrap();
        assert_eq!(ms.0.len(), 4);
        assert_eq!(ms.0[2].value, "page");
        assert_eq!(ms.0[3].value, "a\"b");
        assert_eq!(ms.to_string(), r#"{alertname="Foo",job=~"api|web",sev!="page",x!~"a\"b"}"#);
    }

    #[test]
    fn matches_absent_as_empty() {
        let ms = parse_matchers(r#"a="",b=~"x.*""#).unwrap();
        assert!(ms.matches(&Labels::new([("b", "xy")])));
        assert!(!ms.matches(&Labels::new([("a", "1"), ("b", "xy")])));
    }

    #[test]
    fn dot_does_not_match_newline() {
        // Alertmanager compiles `^(?:re)$` without flags.
        let ms = parse_matchers(r#"a=~"line.*""#).unwrap();
        assert!(!ms.matches(&Labels::new([("a", "line\nbreak")])));
        assert!(ms.matches(&Labels::new([("a", "line one")])));
    }

    #[test]
    fn only_ascii_space_is_trimmed_inside_a_list() {
        // RE2's \s is ASCII; Go's TrimSpace (Unicode) applies to the last token only.
        let ms = parse_matchers("a=x\u{a0},b=y\u{a0}").unwrap();
        assert_eq!(ms.0[0].value, "x\u{a0}");
        assert_eq!(ms.0[1].value, "y");
        assert_eq!(parse_matcher(" a = x\u{a0} ").unwrap().value, "x\u{a0}");
        let err = parse_matcher(r#"a="b"c""#).unwrap_err().to_string();
        assert_eq!(err, r#"matcher value contains unescaped double quote: "b"c""#);
        assert_eq!(
            parse_matcher("nonsense").unwrap_err().to_string(),
            "bad matcher format: nonsense"
        );
    }

    #[test]
    fn regex_errors_in_go_words() {
        let err = parse_matcher(r#"a=~"(""#).unwrap_err().to_string();
        assert_eq!(err, "error parsing regexp: missing closing ): `^(?:()$`");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_matcher("=x").is_err());
        assert!(parse_matcher("a").is_err());
        assert!(parse_matcher(r#"a="b"c""#).is_err());
        assert!(parse_matcher(r#"a=~"(""#).is_err());
    }
}
