//! Float and integer parsing with Go's `strconv` rules as Prometheus applies them.

use crate::parser::NORMAL_NAN_BITS;

/// Parses a sample value: decimal or exponent notation, `NaN`, `[+-]Inf`/`infinity` in any
/// case. Like Prometheus it rejects hex floats and underscores, and like Go it rejects values
/// out of range instead of rounding them to infinity. NaN becomes Prometheus' canonical NaN.
pub(crate) fn parse_float(s: &[u8]) -> Result<f64, String> {
    let bad =
        || format!("strconv.ParseFloat: parsing {:?}: invalid syntax", String::from_utf8_lossy(s));
    let text = std::str::from_utf8(s).map_err(|_| bad())?;
    // Fast path for plain decimals is the std parser; reject what Go rejects first.
    if text.bytes().any(|b| matches!(b, b'p' | b'P' | b'_' | b'x' | b'X')) {
        return Err(bad());
    }
    let v: f64 = text.parse().map_err(|_| bad())?;
    if v.is_nan() {
        if text.starts_with(['+', '-']) {
            return Err(bad());
        }
        return Ok(f64::from_bits(NORMAL_NAN_BITS));
    }
    if v.is_infinite() && !text.trim_start_matches(['+', '-']).as_bytes()[0].is_ascii_alphabetic() {
        return Err(format!(
            "strconv.ParseFloat: parsing {:?}: value out of range",
            String::from_utf8_lossy(s)
        ));
    }
    Ok(v)
}

/// Parses a decimal integer timestamp (digits only, as the text format's lexer accepts).
pub(crate) fn parse_int(s: &[u8]) -> Result<i64, String> {
    let mut v: i64 = 0;
    if s.is_empty() {
        return Err("empty timestamp".into());
    }
    for &b in s {
        if !b.is_ascii_digit() {
            return Err(format!(
                "strconv.ParseInt: parsing {:?}: invalid syntax",
                String::from_utf8_lossy(s)
            ));
        }
        v = v.checked_mul(10).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or_else(
            || {
                format!(
                    "strconv.ParseInt: parsing {:?}: value out of range",
                    String::from_utf8_lossy(s)
                )
            },
        )?;
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn go_float_rules() {
        assert_eq!(parse_float(b"1.5e3").unwrap(), 1500.0);
        assert_eq!(parse_float(b"+Inf").unwrap(), f64::INFINITY);
        assert_eq!(parse_float(b"-inf").unwrap(), f64::NEG_INFINITY);
        assert_eq!(parse_float(b"NaN").unwrap().to_bits(), NORMAL_NAN_BITS);
        assert_eq!(parse_float(b".5").unwrap(), 0.5);
        for bad in [&b"0x1p3"[..], b"1_000", b"abc", b"", b"-NaN", b"1e400", b"1.2.3"] {
            assert!(parse_float(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_int(b"1700000000000").unwrap(), 1_700_000_000_000);
        assert!(parse_int(b"99999999999999999999").is_err());
        assert!(parse_int(b"-1").is_err());
    }
}
