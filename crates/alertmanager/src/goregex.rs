//! Go's `regexp.Compile` error text for the syntax errors users make, so the API answers a
//! bad filter, receiver or silence regex in Alertmanager's words: `error parsing regexp:
//! <code>: `<expr>``. The scan mirrors Go's parser order (left to right; an unclosed group is
//! reported at the end); the regex itself is still compiled by `model::regex_compat`.

/// Go's error for compiling `expr`, if the scan recognises the error; otherwise
/// `error parsing regexp: <fallback>`.
pub fn error_text(expr: &str, fallback: &str) -> String {
    match syntax_error(expr) {
        Some((code, frag)) => format!("error parsing regexp: {code}: `{frag}`"),
        None => format!("error parsing regexp: {fallback}"),
    }
}

/// The first syntax error Go's `regexp/syntax` reports for `expr`: its code and fragment.
pub fn syntax_error(expr: &str) -> Option<(&'static str, String)> {
    let b = expr.as_bytes();
    let mut depth = 0usize;
    // Something to repeat precedes; the start of the last repetition operator, if the item
    // just before is one.
    let (mut atom, mut last_repeat): (bool, Option<usize>) = (false, None);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let mut repeat_start = None;
        match c {
            b'\\' => {
                match escape(expr, i) {
                    Ok(end) => i = end,
                    Err(e) => return Some(e),
                }
                atom = true;
                last_repeat = None;
                continue;
            }
            b'[' => {
                match class_end(expr, i) {
                    Some(end) => {
                        if let Some(range) = backwards_range(&expr[i..end]) {
                            return Some(("invalid character class range", range));
                        }
                        i = end;
                    }
                    None => return Some(("missing closing ]", expr[i..].to_string())),
                }
                atom = true;
                last_repeat = None;
                continue;
            }
            b'(' => {
                if b.get(i + 1) == Some(&b'?') {
                    let Some(end) = group_flags(expr, i) else {
                        let frag: String = expr[i..].chars().take(3).collect();
                        return Some(("invalid or unsupported Perl syntax", frag));
                    };
                    if b[end - 1] == b')' {
                        // A flag group such as (?i) is not a group.
                        i = end;
                        atom = false;
                        last_repeat = None;
                        continue;
                    }
                    i = end;
                } else {
                    i += 1;
                }
                depth += 1;
                atom = false;
                last_repeat = None;
                continue;
            }
            b')' => {
                if depth == 0 {
                    return Some(("unexpected )", expr.to_string()));
                }
                depth -= 1;
                atom = true;
            }
            b'|' => atom = false,
            b'*' | b'+' | b'?' => repeat_start = Some(i),
            b'{' if repeat_count(b, i).is_some() => {
                let end = repeat_count(b, i).unwrap_or(i + 1);
                if !valid_count(&expr[i + 1..end - 1]) {
                    return Some(("invalid repeat count", expr[i..end].to_string()));
                }
                repeat_start = Some(i);
            }
            _ => atom = true,
        }
        if let Some(start) = repeat_start {
            let mut end = if c == b'{' { repeat_count(b, i).unwrap_or(i + 1) } else { i + 1 };
            if b.get(end) == Some(&b'?') {
                end += 1;
            }
            if let Some(prev) = last_repeat {
                return Some(("invalid nested repetition operator", expr[prev..end].to_string()));
            }
            if !atom {
                return Some((
                    "missing argument to repetition operator",
                    expr[start..end].to_string(),
                ));
            }
            last_repeat = Some(start);
            i = end;
            continue;
        }
        last_repeat = None;
        i += expr[i..].chars().next().map_or(1, char::len_utf8);
    }
    if depth > 0 {
        return Some(("missing closing )", expr.to_string()));
    }
    None
}

/// The end of an escape starting at `i`, or the error Go reports for it.
fn escape(expr: &str, i: usize) -> Result<usize, (&'static str, String)> {
    let Some(n) = expr[i + 1..].chars().next() else {
        return Err(("trailing backslash at end of expression", String::new()));
    };
    let end = i + 1 + n.len_utf8();
    let known = matches!(
        n,
        'a' | 'f'
            | 't'
            | 'n'
            | 'r'
            | 'v'
            | 'd'
            | 'D'
            | 's'
            | 'S'
            | 'w'
            | 'W'
            | 'b'
            | 'B'
            | 'A'
            | 'z'
            | 'C'
            | 'Q'
            | 'E'
            | '0'
            | 'x'
            | 'p'
            | 'P'
    );
    if (n.is_ascii() && !n.is_ascii_alphanumeric()) || known {
        Ok(end)
    } else {
        Err(("invalid escape sequence", expr[i..end].to_string()))
    }
}

/// The end of the character class opening at `i`; `None` if it is not closed.
fn class_end(expr: &str, i: usize) -> Option<usize> {
    let b = expr.as_bytes();
    let mut j = i + 1;
    if b.get(j) == Some(&b'^') {
        j += 1;
    }
    if b.get(j) == Some(&b']') {
        j += 1;
    }
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'[' if b.get(j + 1) == Some(&b':') => {
                j = expr[j..].find(":]").map_or(j + 1, |k| j + k + 2);
            }
            b']' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// `n`, `n,` or `n,m` of a repeat count as Go accepts it: at most 1000, `m` not below `n`.
fn valid_count(inner: &str) -> bool {
    let (n, m) = match inner.split_once(',') {
        Some((n, "")) => (n, None),
        Some((n, m)) => (n, Some(m)),
        None => (inner, Some(inner)),
    };
    let n: u32 = n.parse().unwrap_or(u32::MAX);
    let m: Option<u32> = m.map(|m| m.parse().unwrap_or(u32::MAX));
    n <= 1000 && m.is_none_or(|m| m <= 1000 && m >= n)
}

/// A range `x-y` with `y` before `x` in a class such as `[z-a]` (plain characters only).
fn backwards_range(class: &str) -> Option<String> {
    let inner = class.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner.strip_prefix('^').unwrap_or(inner);
    let chars: Vec<char> = inner.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        if chars[k] == '\\' || chars[k] == '[' {
            return None;
        }
        if k + 2 < chars.len() && chars[k + 1] == '-' && chars[k + 2] != '\\' {
            if chars[k + 2] < chars[k] {
                return Some(chars[k..k + 3].iter().collect());
            }
            k += 3;
        } else {
            k += 1;
        }
    }
    None
}

/// `(?flags)`, `(?flags:` or `(?P<name>`: the index after it.
fn group_flags(expr: &str, i: usize) -> Option<usize> {
    let b = expr.as_bytes();
    let mut j = i + 2;
    if b.get(j) == Some(&b'P') && b.get(j + 1) == Some(&b'<') {
        let close = expr[j..].find('>')?;
        return Some(j + close + 1);
    }
    while j < b.len() {
        match b[j] {
            b'i' | b'm' | b's' | b'U' | b'-' => j += 1,
            b')' | b':' => return Some(j + 1),
            _ => return None,
        }
    }
    None
}

/// `{n}`, `{n,}` or `{n,m}` at `i`: the index after it.
fn repeat_count(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let digits = |j: &mut usize| {
        let s = *j;
        while b.get(*j).is_some_and(u8::is_ascii_digit) {
            *j += 1;
        }
        *j > s
    };
    if !digits(&mut j) {
        return None;
    }
    if b.get(j) == Some(&b',') {
        j += 1;
        digits(&mut j);
    }
    (b.get(j) == Some(&b'}')).then_some(j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_words_for_common_mistakes() {
        let e = |x: &str| error_text(x, "?");
        assert_eq!(e("^(?:()$"), "error parsing regexp: missing closing ): `^(?:()$`");
        assert_eq!(e("("), "error parsing regexp: missing closing ): `(`");
        assert_eq!(e("^(?:a))$"), "error parsing regexp: unexpected ): `^(?:a))$`");
        assert_eq!(e("^(?:[a)$"), "error parsing regexp: missing closing ]: `[a)$`");
        assert_eq!(
            e("^(?:*)$"),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(e("a**"), "error parsing regexp: invalid nested repetition operator: `**`");
        assert_eq!(
            e("x|+?"),
            "error parsing regexp: missing argument to repetition operator: `+?`"
        );
        assert_eq!(e("\\"), "error parsing regexp: trailing backslash at end of expression: ``");
        assert_eq!(syntax_error("a{2}b*?|(?i)c[]a]\\.(?P<n>x)"), None);
        assert_eq!(e("a{2,1}"), "error parsing regexp: invalid repeat count: `{2,1}`");
        assert_eq!(e("a{1001}"), "error parsing regexp: invalid repeat count: `{1001}`");
        assert_eq!(e("[z-a]"), "error parsing regexp: invalid character class range: `z-a`");
        assert_eq!(syntax_error("[a-z0-9-]{1,1000}"), None);
    }
}
