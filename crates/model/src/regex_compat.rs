//! Go RE2 regular expressions on top of Rust's `regex` crate.
//!
//! Prometheus compiles label regexes with Go's `regexp` package (RE2 syntax) as `^(?s:EXPR)$`.
//! Rust's `regex` crate accepts almost the same language; [`translate`] rewrites the places where
//! the two differ and rejects what Go rejects. The table of differences (each row is a test in
//! `tests` below):
//!
//! | Go (RE2)                          | Rust `regex`                     | translation                      |
//! |-----------------------------------|----------------------------------|----------------------------------|
//! | `\d \w \s \b` are ASCII-only      | Unicode-aware                    | explicit ASCII classes, `(?-u:\b)` |
//! | `\s` is `[\t\n\f\r ]` (no `\v`)   | includes `\v` and Unicode spaces | `[\t\n\x0C\r ]`                   |
//! | `\Q...\E` quotes a literal        | unsupported                      | each character escaped            |
//! | `\<` `\>` are literal `<` `>`     | word boundaries                  | literal characters                |
//! | `[` inside a class is literal     | starts a nested class            | `\[`                              |
//! | `&&` `~~` inside a class literal  | class intersection / difference  | escaped                           |
//! | `a{` (no valid count) is literal  | syntax error                     | `\{`                              |
//! | repeat counts above 1000 rejected | accepted                         | rejected                          |
//! | flags `imsU` only                 | also `x`, `u`, `R`               | others rejected                   |
//! | `\1`..`\7` alone (backreference)  | octal (when enabled)             | rejected                          |
//! | `\123` octal escapes              | only with `octal(true)`          | compiled with `octal(true)`       |
//! | `\C`, `\Z`                        | unsupported                      | rejected (Go rejects them too)    |
//! | `a**`, `a{2}*` nested repetition  | accepted                         | rejected                          |
//! | `(?P<1x>` names may start with a digit; no `(?<x>` form (Go before 1.22) | the reverse | renamed / rejected |

use regex::{Regex, RegexBuilder};

use crate::ModelError;

/// Upper bound on compiled program size, so a hostile regex cannot exhaust memory.
const SIZE_LIMIT: usize = 32 << 20;
/// Go's maximum repetition count.
const MAX_REPEAT: u32 = 1000;

fn err(pattern: &str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidRegex { pattern: pattern.to_string(), reason: reason.into() }
}

/// Compiles `pattern` with Prometheus' semantics: RE2 syntax, fully anchored, `.` matches `\n`.
pub fn compile_anchored(pattern: &str) -> Result<Regex, ModelError> {
    let translated = translate(pattern)?;
    build(pattern, &format!("^(?s:{translated})$"))
}

/// Compiles `pattern` as Prometheus' relabeling does (`^(?:EXPR)$`): RE2 syntax, fully anchored,
/// and `.` does not match `\n` unless the pattern sets `(?s)`.
pub fn compile_anchored_without_dotall(pattern: &str) -> Result<Regex, ModelError> {
    let translated = translate(pattern)?;
    build(pattern, &format!("^(?:{translated})$"))
}

/// Compiles `pattern` with RE2 syntax, unanchored (for `label_replace` and templates use the
/// anchored form; this is for callers that anchor themselves).
pub fn compile_unanchored(pattern: &str) -> Result<Regex, ModelError> {
    let translated = translate(pattern)?;
    build(pattern, &translated)
}

fn build(original: &str, rust_pattern: &str) -> Result<Regex, ModelError> {
    RegexBuilder::new(rust_pattern)
        .octal(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| err(original, first_line(&e.to_string())))
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().trim_start_matches("error: ").to_string()
}

/// Rewrites a Go RE2 pattern into an equivalent Rust `regex` pattern, or says why Go would
/// reject it.
pub fn translate(pattern: &str) -> Result<String, ModelError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut last_repeat = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => i = escape(pattern, &chars, i, in_class, &mut out)?,
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '[' => {
                if chars.get(i + 1) == Some(&':') {
                    // A POSIX class such as [:alpha:]: copy through its closing ":]".
                    let rest: String = chars[i..].iter().collect();
                    match rest.find(":]") {
                        Some(end) => {
                            out.push_str(&rest[..end + 2]);
                            i += rest[..end + 2].chars().count();
                        }
                        None => return Err(err(pattern, "missing closing ]")),
                    }
                } else {
                    out.push_str("\\[");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
                i += 1;
            }
            '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                i = group_flags(pattern, &chars, i, &mut out)?;
            }
            '*' | '+' | '?' | '{' if !in_class && (c != '{' || is_repeat_count(&chars, i)) => {
                // Go rejects a repetition of a repetition (`a**`, `a+{2}`); a lazy `?` belongs
                // to the operator before it.
                if last_repeat {
                    return Err(err(pattern, "invalid nested repetition operator"));
                }
                i = if c == '{' {
                    repetition(pattern, &chars, i, &mut out)?
                } else {
                    out.push(c);
                    i + 1
                };
                if chars.get(i) == Some(&'?') {
                    out.push('?');
                    i += 1;
                }
                last_repeat = true;
                continue;
            }
            '{' if !in_class => i = repetition(pattern, &chars, i, &mut out)?,
            _ => {
                out.push(c);
                i += 1;
            }
        }
        last_repeat = false;
    }
    if in_class {
        return Err(err(pattern, "missing closing ]"));
    }
    Ok(out)
}

/// Handles a backslash escape at `i`; returns the index after it.
fn escape(
    pattern: &str,
    chars: &[char],
    i: usize,
    in_class: bool,
    out: &mut String,
) -> Result<usize, ModelError> {
    let Some(&n) = chars.get(i + 1) else {
        return Err(err(pattern, "trailing backslash at end of expression"));
    };
    let next = i + 2;
    // A bracketed class works outside a class and, nested, inside one (Rust unions nested classes).
    let class = |body: &str| format!("[{body}]");
    match n {
        'd' => out.push_str(&class("0-9")),
        'D' => out.push_str(&class("^0-9")),
        'w' => out.push_str(&class("0-9A-Za-z_")),
        'W' => out.push_str(&class("^0-9A-Za-z_")),
        's' => out.push_str(&class("\\t\\n\\x0C\\r ")),
        'S' => out.push_str(&class("^\\t\\n\\x0C\\r ")),
        'b' | 'B' if !in_class => {
            out.push_str("(?-u:\\");
            out.push(n);
            out.push(')');
        }
        '<' | '>' => out.push(n),
        'Q' => {
            let mut j = next;
            while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                out.push_str(&regex::escape(&chars[j].to_string()));
                j += 1;
            }
            return Ok(if j < chars.len() { j + 2 } else { j });
        }
        'E' => {} // A stray \E is ignored by Go.
        'C' | 'Z' => return Err(err(pattern, format!("invalid escape sequence: \\{n}"))),
        '1'..='7' if !chars.get(next).is_some_and(|c| c.is_ascii_digit()) => {
            return Err(err(pattern, format!("invalid escape sequence: \\{n}")));
        }
        _ => {
            out.push('\\');
            out.push(n);
        }
    }
    Ok(next)
}

/// Handles `(?` at `i`: named groups pass through, flag groups are checked against Go's set.
fn group_flags(
    pattern: &str,
    chars: &[char],
    i: usize,
    out: &mut String,
) -> Result<usize, ModelError> {
    let after = chars.get(i + 2).copied();
    if after == Some('P') && chars.get(i + 3) == Some(&'<') {
        return named_group(pattern, chars, i, out);
    }
    let mut j = i + 2;
    while j < chars.len() && chars[j] != ')' && chars[j] != ':' {
        if !matches!(chars[j], 'i' | 'm' | 's' | 'U' | '-') {
            return Err(err(pattern, "invalid or unsupported Perl syntax"));
        }
        j += 1;
    }
    if j >= chars.len() {
        return Err(err(pattern, "missing closing )"));
    }
    out.extend(&chars[i..j]);
    Ok(j)
}

/// Whether the `{` at `i` starts a valid repeat count (`{n}`, `{n,}`, `{n,m}`); otherwise Go
/// reads it as a literal.
fn is_repeat_count(chars: &[char], i: usize) -> bool {
    let Some(close) = chars[i..].iter().position(|&c| c == '}').map(|p| p + i) else {
        return false;
    };
    let body: String = chars[i + 1..close].iter().collect();
    let mut parts = body.splitn(2, ',');
    let min = parts.next().unwrap_or("");
    let max = parts.next();
    let is_num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    is_num(min) && max.is_none_or(|m| m.is_empty() || is_num(m))
}

/// A prefix for capture names Go accepts and Rust does not (those starting with a digit).
const DIGIT_NAME_PREFIX: &str = "__go_digit_";

/// The name Go gives a capture group compiled from a Go pattern (undoing the renaming of names
/// that start with a digit).
pub fn go_capture_name(rust_name: &str) -> &str {
    match rust_name.strip_prefix(DIGIT_NAME_PREFIX) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => rust_name,
    }
}

/// `(?P<name>` at `i`: Go (as of Prometheus 2.42's Go 1.19/1.20) takes a non-empty ASCII
/// alphanumeric or `_` name, which may start with a digit, and has no `(?<name>` form.
fn named_group(
    pattern: &str,
    chars: &[char],
    i: usize,
    out: &mut String,
) -> Result<usize, ModelError> {
    let start = i + 4;
    let Some(end) = chars[start..].iter().position(|&c| c == '>').map(|p| p + start) else {
        return Err(err(pattern, "invalid named capture"));
    };
    let name: String = chars[start..end].iter().collect();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(err(pattern, format!("invalid named capture: `(?P<{name}>`")));
    }
    out.push_str("(?P<");
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push_str(DIGIT_NAME_PREFIX);
    }
    out.push_str(&name);
    out.push('>');
    Ok(end + 1)
}

/// Handles `{` at `i`: a valid count is checked against Go's limit, anything else is literal.
fn repetition(
    pattern: &str,
    chars: &[char],
    i: usize,
    out: &mut String,
) -> Result<usize, ModelError> {
    let close = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
    let Some(close) = close else {
        out.push_str("\\{");
        return Ok(i + 1);
    };
    let body: String = chars[i + 1..close].iter().collect();
    let mut parts = body.splitn(2, ',');
    let min = parts.next().unwrap_or("");
    let max = parts.next();
    let is_num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let valid = is_num(min) && max.is_none_or(|m| m.is_empty() || is_num(m));
    if !valid {
        out.push_str("\\{");
        return Ok(i + 1);
    }
    for n in [Some(min), max].into_iter().flatten().filter(|s| !s.is_empty()) {
        if n.parse::<u32>().map_or(true, |n| n > MAX_REPEAT) {
            return Err(err(pattern, format!("invalid repeat count: {{{body}}}")));
        }
    }
    out.extend(&chars[i..=close]);
    Ok(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile_anchored(p).expect(p).is_match(s)
    }

    /// The difference table from the module docs, one row per assertion group.
    #[test]
    fn go_semantics_table() {
        // Perl classes are ASCII-only in Go.
        assert!(m(r"\d+", "123"));
        assert!(!m(r"\d", "٣")); // Arabic-Indic digit three
        assert!(!m(r"\w", "é"));
        assert!(m(r"\W", "é"));
        assert!(m(r"[\d.]+", "1.5"));
        assert!(!m(r"[^\d]", "5"));
        assert!(!m(r"\s", "\u{0B}")); // vertical tab is not \s in Go
        assert!(m(r"\s", "\u{0C}"));
        assert!(m(r"a\bb|a\b", "a"));
        // \Q...\E literal quoting.
        assert!(m(r"\Qa.b*\E", "a.b*"));
        assert!(!m(r"\Qa.b\E", "axb"));
        // \< and \> are literals in Go.
        assert!(m(r"\<a\>", "<a>"));
        // '[' inside a class is a literal, as are && and ~~.
        assert!(m(r"[a[]+", "a[a"));
        assert!(m(r"[a&&b]", "&"));
        assert!(m(r"[a~~b]", "~"));
        assert!(m(r"[[:alpha:]]+", "abc"));
        // '{' without a valid count is a literal.
        assert!(m(r"a{", "a{"));
        assert!(m(r"a{x}", "a{x}"));
        assert!(m(r"a{2}", "aa"));
        // Lazy operators and repeated groups are not nested repetitions.
        assert!(m(r"a*?b+?c??d{1,2}?", "abcd"));
        assert!(m(r"(a*)*[*+]{2}", "aa*+"));
        assert!(m(r"a{x}*", "a{x}}"));
        assert!(m(r"a{,2}", "a{,2}"));
        // Octal escapes.
        assert!(m(r"\101", "A"));
        // Dot matches newline; the match is fully anchored.
        assert!(m("a.b", "a\nb"));
        let plain = compile_anchored_without_dotall("a.b|x").unwrap();
        assert!(!plain.is_match("a\nb") && plain.is_match("axb") && !plain.is_match("xx"));
        assert!(compile_anchored_without_dotall("(?s)a.b").unwrap().is_match("a\nb"));
        assert!(!m("b", "abc"));
        assert!(m("", ""));
    }

    #[test]
    fn go_rejections() {
        for bad in [
            r"a{1001}", r"(?x)a", r"\C", r"\Z", r"\1", "[a", r"a\", "(?u)a", "(a", "a**", "a+*",
            "a*??", "a{2}{3}", "a{2}*", "a?+",
        ] {
            assert!(compile_anchored(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn flags_and_named_groups() {
        assert!(m("(?i)ABC", "abc"));
        assert!(m("(?P<x>a)(?P<1y>b)", "ab"));
        let re = compile_anchored("(?P<1y>b)").unwrap();
        let names: Vec<_> = re.capture_names().flatten().map(go_capture_name).collect();
        assert_eq!(names, ["1y"]);
        for bad in ["(?<y>b)", "(?P<a.b>x)", "(?P<é>x)", "(?P<>x)", "(?P<x"] {
            assert!(compile_anchored(bad).is_err(), "{bad} should be rejected");
        }
        assert!(m("(?s-i:a.)", "a\n"));
    }

    #[test]
    fn errors_name_the_pattern() {
        let e = compile_anchored("(").unwrap_err();
        assert!(e.to_string().contains("\"(\""), "{e}");
    }
}
