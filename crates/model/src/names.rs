//! Validity rules for metric and label names.
//!
//! Prometheus 3 accepts any UTF-8 name when quoted ("utf8" validation) and keeps the legacy
//! rules (`[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, `[a-zA-Z_][a-zA-Z0-9_]*` for label names)
//! for unquoted names and for exposition formats that cannot quote.

/// Label names starting with this prefix are reserved for internal use.
pub const RESERVED_PREFIX: &str = "__";

/// The legacy metric-name rule: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// The legacy label-name rule: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The UTF-8 rule of Prometheus 3: any non-empty string (Rust strings are always valid UTF-8).
pub fn is_utf8_name(name: &str) -> bool {
    !name.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for ok in ["up", "a:b_c", "_x", ":recording:rule", "http_requests_total"] {
            assert!(is_legacy_metric_name(ok), "{ok}");
        }
        for bad in ["", "1up", "a-b", "a.b", "ü"] {
            assert!(!is_legacy_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_names() {
        for ok in ["job", "__name__", "_", "le"] {
            assert!(is_legacy_label_name(ok), "{ok}");
        }
        for bad in ["", "a:b", "0a", "a-b"] {
            assert!(!is_legacy_label_name(bad), "{bad}");
        }
        assert!(is_utf8_name("a.b"));
        assert!(!is_utf8_name(""));
    }
}
