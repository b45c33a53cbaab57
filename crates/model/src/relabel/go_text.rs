//! Go's text semantics that relabeling depends on: `Regexp.Expand` templates (`$1`, `${name}`,
//! `$$`) and `strings.ToLower` / `strings.ToUpper` (Unicode simple case mapping, one rune to one
//! rune).
//!
//! Rust's `Captures::expand` differs from Go's in corners a relabel config can reach: Go reads a
//! reference name as Unicode letters, digits and `_` (`$1é` names group "1é"), treats a number
//! with a leading zero as a name (`$01`), and in `${...}` accepts only such characters (so
//! `${a-b}` is literal text); Rust reads ASCII names, numbers `01` as 1 and takes anything up to
//! `}`. Rust's `str::to_lowercase`/`to_uppercase` use full case mapping (`ß` → `SS`, `İ` →
//! `i̇`, word-final `Σ` → `ς`), which Go does not.

use regex::{Captures, Regex};

use crate::regex_compat;

/// Expands `template` as Go's `Regexp.ExpandString` does.
pub(crate) fn expand(re: &Regex, caps: &Captures<'_>, template: &str, out: &mut String) {
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, num, after)) = extract(rest) else {
            // Malformed: the `$` is literal text.
            out.push('$');
            continue;
        };
        rest = after;
        let group = match num {
            Some(n) => caps.get(n),
            None => re
                .capture_names()
                .position(|n| n.map(regex_compat::go_capture_name) == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
}

/// Go's `extract`: a reference name after `$`, its group number if it is one, and the rest.
fn extract(s: &str) -> Option<(&str, Option<usize>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphabetic() || c.is_numeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let rest = if braced { body[len..].strip_prefix('}')? } else { &body[len..] };
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        num = match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                Some(n * 10 + usize::from(b - b'0'))
            }
            _ => None,
        };
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// `strings.ToLower`: every rune mapped by its simple lowercase mapping.
pub(crate) fn to_lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

/// `strings.ToUpper`: every rune mapped by its simple uppercase mapping.
pub(crate) fn to_upper(s: &str) -> String {
    s.chars().map(upper_rune).collect()
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let first = it.next()?;
    if it.next().is_some() { None } else { Some(first) }
}

fn lower_rune(c: char) -> char {
    // U+0130 is the only rune whose full lowercase mapping has more than one rune.
    single(c.to_lowercase()).unwrap_or(if c == '\u{130}' { 'i' } else { c })
}

fn upper_rune(c: char) -> char {
    if let Some(u) = single(c.to_uppercase()) {
        return u;
    }
    // Runes whose full uppercase mapping has several runes: most have no simple mapping (they
    // stay as they are); the Greek letters with ypogegrammeni map to their titlecase forms.
    match c as u32 {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => {
            char::from_u32(c as u32 + 8).unwrap_or(c)
        }
        0x1FB3 | 0x1FC3 | 0x1FF3 => char::from_u32(c as u32 + 9).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn exp(re: &str, template: &str, s: &str) -> String {
        let re = regex_compat::compile_anchored_without_dotall(re).unwrap();
        let caps = re.captures(s).unwrap();
        let mut out = String::new();
        expand(&re, &caps, template, &mut out);
        out
    }

    #[test]
    fn expand_like_go() {
        assert_eq!(exp("(a)(b)", "$2$1-${1}x-$$-$", "ab"), "ba-ax-$-$");
        // A name runs over letters and digits: `$1x` names group "1x", which does not exist.
        assert_eq!(exp("(a)", "$1x|${1}x", "a"), "|ax");
        // Unicode letters belong to the name in Go.
        assert_eq!(exp("(a)", "$1é.", "a"), ".");
        // A leading zero makes a name, not a number; `$0` is the whole match.
        assert_eq!(exp("(a)b", "$01|$0", "ab"), "|ab");
        // Braces hold only name characters, else the `$` is literal.
        assert_eq!(exp("(a)", "${a-b}|${1|${", "a"), "${a-b}|${1|${");
        assert_eq!(exp("(?P<n>a)(b)?", "$n${n}$2.", "a"), "aa.");
        assert_eq!(exp("(a)", "$10", "a"), "");
        // Go allows names starting with a digit; `$1x` then names that group.
        assert_eq!(exp("(a)(?P<1x>b)", "$1x|${1}|$2", "ab"), "b|a|b");
    }

    #[test]
    fn simple_case_mapping() {
        assert_eq!(to_upper("straße ﬀ ŉ"), "STRAßE ﬀ ŉ");
        assert_eq!(to_lower("İSTANBUL"), "istanbul");
        assert_eq!(to_lower("ΟΔΟΣ"), "οδοσ");
        assert_eq!(to_upper("ᾳ ᾀ ǅ"), "ᾼ ᾈ Ǆ");
        assert_eq!(to_lower("ǅ Ünï"), "ǆ ünï");
    }
}
