//! String literals whose Go escapes produce bytes that are not UTF-8 (`"\xff"`, `"\377"`).
//!
//! Go keeps such strings as raw bytes (and, for example, rejects them as label names), while
//! `promql-parser` decodes `\xNN` and octal escapes to the characters U+00NN. This module lexes
//! the query text itself to find those literals, so the converted tree can mark them.

/// A literal that is not valid UTF-8: its value as `promql-parser` decodes it, and Go's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidLiteral {
    pub parsed: String,
    pub bytes: Vec<u8>,
}

/// Every `"..."` or `'...'` literal in `query` whose Go value is not UTF-8.
pub(crate) fn invalid_utf8_literals(query: &str) -> Vec<InvalidLiteral> {
    let b = query.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            q @ (b'"' | b'\'') => {
                let (end, lit) = unquote(query, i + 1, q);
                if let Some(lit) = lit {
                    out.push(lit);
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Decodes a literal starting at `start` (after the quote) up to the closing `quote`; returns
/// the index of the closing quote and the literal if its bytes are not UTF-8.
fn unquote(query: &str, start: usize, quote: u8) -> (usize, Option<InvalidLiteral>) {
    let b = query.as_bytes();
    let (mut bytes, mut parsed) = (Vec::new(), String::new());
    let mut saw_raw_byte = false;
    let mut i = start;
    while i < b.len() && b[i] != quote {
        if b[i] != b'\\' {
            let ch = query[i..].chars().next().unwrap_or('\u{fffd}');
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            parsed.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let Some(&c) = b.get(i + 1) else { break };
        let digits = |from: usize, n: usize, radix: u32| -> Option<u32> {
            let s = query.get(from..from + n)?;
            u32::from_str_radix(s, radix).ok()
        };
        let (byte, len) = match c {
            b'x' => (digits(i + 2, 2, 16), 4),
            b'0'..=b'7' => (digits(i + 1, 3, 8).filter(|v| *v <= 255), 4),
            _ => (None, 0),
        };
        if let Some(v) = byte {
            bytes.push(v as u8);
            parsed.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            saw_raw_byte |= v >= 0x80;
            i += len;
            continue;
        }
        // Any other escape decodes to the same character on both sides; its exact value does
        // not matter for telling literals apart, only that both sides stay in step.
        let (ch, len) = simple_escape(query, i);
        let mut buf = [0u8; 4];
        bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        parsed.push(ch);
        i += len;
    }
    let invalid = saw_raw_byte && std::str::from_utf8(&bytes).is_err();
    (i, invalid.then_some(InvalidLiteral { parsed, bytes }))
}

/// A non-byte escape at `i` (the backslash): its character and length.
fn simple_escape(query: &str, i: usize) -> (char, usize) {
    let b = query.as_bytes();
    let hex = |n: usize| {
        query
            .get(i + 2..i + 2 + n)
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .and_then(char::from_u32)
            .unwrap_or('\u{fffd}')
    };
    match b.get(i + 1) {
        Some(b'a') => ('\x07', 2),
        Some(b'b') => ('\x08', 2),
        Some(b'f') => ('\x0c', 2),
        Some(b'n') => ('\n', 2),
        Some(b'r') => ('\r', 2),
        Some(b't') => ('\t', 2),
        Some(b'v') => ('\x0b', 2),
        Some(b'u') => (hex(4), 6),
        Some(b'U') => (hex(8), 10),
        _ => {
            let ch = query.get(i + 1..).and_then(|s| s.chars().next()).unwrap_or('\\');
            (ch, 1 + ch.len_utf8())
        }
    }
}

/// Bytes as Go's `%s` shows them in messages: UTF-8 runs as is, other bytes as `\xNN`.
pub(crate) fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_non_utf8_literals() {
        let q = r#"label_replace(m{a="\xff"}, "\xff", "\xc3\xbf", "src", '\377') # "\xfe""#;
        let found = invalid_utf8_literals(q);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].bytes, vec![0xff]);
        assert_eq!(found[0].parsed, "\u{ff}");
        assert_eq!(found[2].bytes, vec![0xff]);
        assert!(invalid_utf8_literals(r#"f("\xc3\xbf", "ok\"", `\xff`)"#).is_empty());
        assert_eq!(display_bytes(b"a\xffb"), "a\\xffb");
    }
}
