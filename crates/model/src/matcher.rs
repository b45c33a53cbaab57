//! Label matchers: `=`, `!=`, `=~`, `!~`.
//!
//! Regex matchers use [`crate::regex_compat`] (Go RE2 semantics, fully anchored, `.` matches
//! newline) and recognise the shapes that need no regex engine at all: `.*`, `.+`, literal
//! alternations `a|b|c` and literal prefixes `foo.*`. Storage uses [`Matcher::set_matches`] and
//! [`Matcher::literal_prefix`] to look postings up directly instead of scanning label values.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use regex::Regex;

use crate::labels::write_go_quoted;
use crate::{ModelError, regex_compat};

/// The four matcher kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regex => "=~",
            MatchType::NotRegex => "!~",
        }
    }
}

/// How a regex matcher decides, cheapest first.
#[derive(Debug)]
enum Fast {
    /// `.*`: everything.
    Any,
    /// `.+`: every non-empty value.
    NonEmpty,
    /// `a|b|c` of plain literals.
    Set(HashSet<String>),
    /// `prefix.*` with a plain-literal prefix.
    Prefix(String),
    /// Anything else.
    Regex(Regex),
}

/// A label matcher. Construct with [`Matcher::new`]; it validates and compiles regexes.
#[derive(Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchType,
    pub value: String,
    fast: Option<Arc<Fast>>,
}

impl Matcher {
    pub fn new(op: MatchType, name: &str, value: &str) -> Result<Matcher, ModelError> {
        let fast = match op {
            MatchType::Regex | MatchType::NotRegex => Some(Arc::new(compile_fast(value)?)),
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), op, value: value.to_string(), fast })
    }

    /// Like [`Matcher::new`], but a regex compiles as Go's `regexp.Compile("^(?:" + v + ")$")`
    /// without flags, so `.` does not match a newline: Alertmanager's matchers (routes,
    /// inhibition, silences, API filters) are built this way.
    pub fn new_dot_excludes_newline(
        op: MatchType,
        name: &str,
        value: &str,
    ) -> Result<Matcher, ModelError> {
        let fast = match op {
            MatchType::Regex | MatchType::NotRegex => {
                let re = regex_compat::compile_anchored_without_dotall(value)?;
                Some(Arc::new(if value.split('|').all(is_plain_literal) {
                    Fast::Set(value.split('|').map(str::to_string).collect())
                } else {
                    Fast::Regex(re)
                }))
            }
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), op, value: value.to_string(), fast })
    }

    /// Shorthand for an `=` matcher, which cannot fail.
    pub fn equal(name: &str, value: &str) -> Matcher {
        Matcher {
            name: name.to_string(),
            op: MatchType::Equal,
            value: value.to_string(),
            fast: None,
        }
    }

    /// True if a label value `v` satisfies the matcher. An absent label matches as `""`.
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regex => self.regex_matches(v),
            MatchType::NotRegex => !self.regex_matches(v),
        }
    }

    fn regex_matches(&self, v: &str) -> bool {
        match self.fast.as_deref() {
            Some(Fast::Any) => true,
            Some(Fast::NonEmpty) => !v.is_empty(),
            Some(Fast::Set(set)) => set.contains(v),
            Some(Fast::Prefix(p)) => v.starts_with(p.as_str()),
            Some(Fast::Regex(re)) => re.is_match(v),
            None => false,
        }
    }

    /// True if the matcher accepts the empty string (so it also selects series without the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=` and for `=~` of a literal alternation: the exact values it accepts.
    pub fn set_matches(&self) -> Option<Vec<&str>> {
        match (self.op, self.fast.as_deref()) {
            (MatchType::Equal, _) => Some(vec![self.value.as_str()]),
            (MatchType::Regex, Some(Fast::Set(set))) => {
                let mut v: Vec<&str> = set.iter().map(String::as_str).collect();
                v.sort_unstable();
                Some(v)
            }
            _ => None,
        }
    }

    /// For `=~"prefix.*"`: the literal prefix every accepted value starts with.
    pub fn literal_prefix(&self) -> Option<&str> {
        match (self.op, self.fast.as_deref()) {
            (MatchType::Regex, Some(Fast::Prefix(p))) => Some(p),
            _ => None,
        }
    }
}

fn is_plain_literal(s: &str) -> bool {
    !s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn compile_fast(pattern: &str) -> Result<Fast, ModelError> {
    // Compile first so invalid patterns are rejected even when a fast path would apply.
    let re = regex_compat::compile_anchored(pattern)?;
    if pattern == ".*" {
        return Ok(Fast::Any);
    }
    if pattern == ".+" {
        return Ok(Fast::NonEmpty);
    }
    if pattern.split('|').all(is_plain_literal) {
        return Ok(Fast::Set(pattern.split('|').map(str::to_string).collect()));
    }
    if let Some(prefix) = pattern.strip_suffix(".*")
        && !prefix.is_empty()
        && is_plain_literal(prefix)
    {
        return Ok(Fast::Prefix(prefix.to_string()));
    }
    Ok(Fast::Regex(re))
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.op.hash(state);
        self.value.hash(state);
    }
}

/// Formats as PromQL: `name="value"`, `name=~"regex"`.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.name, self.op.as_str())?;
        write_go_quoted(f, &self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> Matcher {
        Matcher::new(MatchType::Regex, "l", p).expect(p)
    }

    #[test]
    fn equality_matchers() {
        let m = Matcher::equal("job", "api");
        assert!(m.matches("api") && !m.matches("apix"));
        let n = Matcher::new(MatchType::NotEqual, "job", "").unwrap();
        assert!(n.matches("x") && !n.matches(""));
    }

    #[test]
    fn regex_fast_paths_agree_with_the_regex() {
        let values = ["", "a", "b", "ab", "foo", "foobar", "fo", "x\ny", "c"];
        for p in [".*", ".+", "a|b|c", "foo.*", "fo+", "(a|b)", "x.y", "|a"] {
            let fast = re(p);
            let slow = regex_compat::compile_anchored(p).unwrap();
            for v in values {
                assert_eq!(fast.matches(v), slow.is_match(v), "pattern {p} value {v:?}");
            }
        }
    }

    #[test]
    fn dot_excludes_newline_variant() {
        let m = |p: &str| Matcher::new_dot_excludes_newline(MatchType::Regex, "l", p).expect(p);
        for p in [".*", ".+", "a.*", "line.*"] {
            assert!(!m(p).matches("line\nbreak"), "{p}");
            assert!(re(p).matches("line\nbreak") || p == "a.*", "{p}");
        }
        assert!(m("line\\nbreak").matches("line\nbreak"));
        assert!(m(".*").matches("") && m("a|b").matches("b") && !m("a|b").matches("ab"));
        // Go wraps the text as it is: `a)|(b` is `^(?:a)|(b)$`, i.e. "starts with a" or
        // "ends with b".
        assert!(m("a)|(b").matches("axx") && m("a)|(b").matches("xxb"));
        assert!(!m("a)|(b").matches("xx"));
    }

    #[test]
    fn set_and_prefix_hints() {
        assert_eq!(re("b|a").set_matches(), Some(vec!["a", "b"]));
        assert_eq!(re("foo.*").literal_prefix(), Some("foo"));
        assert_eq!(re("fo+").set_matches(), None);
        assert_eq!(Matcher::equal("a", "x").set_matches(), Some(vec!["x"]));
    }

    #[test]
    fn negative_regex_and_empty() {
        let m = Matcher::new(MatchType::NotRegex, "status", "5..").unwrap();
        assert!(m.matches("200") && !m.matches("503") && m.matches_empty());
        assert!(!re(".+").matches_empty());
    }

    #[test]
    fn invalid_regex_is_an_error() {
        assert!(Matcher::new(MatchType::Regex, "a", "(").is_err());
        assert!(Matcher::new(MatchType::Regex, "a", "a{2000}").is_err());
    }

    #[test]
    fn display_as_promql() {
        assert_eq!(re("a\"b").to_string(), r#"l=~"a\"b""#);
    }
}
