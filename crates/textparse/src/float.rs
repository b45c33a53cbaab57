//! Float and integer parsing with Go's `strconv` rules as Prometheus applies them.

use crate::parser::NORMAL_NAN_BITS;

/// Parses a sample value: decimal or exponent notation, `NaN`, `[+-]Inf`/`infinity` in any
/// case. Like Prometheus it rejects hex floats and underscores, and like Go it rejects values
/// out of range instead of rounding them to infinity. NaN becomes Prometheus' canonical NaN.
pub(crate) fn parse_float(s: &[u8]) -> Result<f64, String> {
    if let Some(v) = plain_decimal(s) {
        return Ok(v);
    }
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

/// Powers of ten exactly representable as f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of exposition values, `[-]digits[.digits]` with at most 2^53 as the digits
/// read as one integer: that integer and the power of ten are exact, so one IEEE division is
/// correctly rounded (Clinger's fast path) and equals the full parser's result. Anything else
/// (exponents, `+`, long mantissas, NaN, Inf, garbage) returns `None` for the full parser.
fn plain_decimal(s: &[u8]) -> Option<f64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut m: u64 = 0;
    let mut n = 0usize;
    let mut frac: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                n += 1;
                if n > 19 {
                    return None;
                }
                m = m * 10 + u64::from(b - b'0');
            }
            b'.' if frac.is_none() => frac = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    if n == 0 || m > (1 << 53) {
        return None;
    }
    let v = m as f64 / POW10[frac.unwrap_or(0)];
    Some(if neg { -v } else { v })
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
        for bad in [&b"-"[..], b".", b"-.", b"1..2", b"1.2.", b"--1", b"1-", b" 1"] {
            assert!(parse_float(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn fast_path_equals_the_full_parser() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "1",
            "1.",
            ".5",
            "-.5",
            "0.1",
            "12345.67",
            "86790.71428571429",
            "9007199254740992",
            "9007199254740993",
            "0.000000000000000000001",
            "123456789.123456789",
            "18446744073709551615",
            "99999999999999999999",
            "000000000000000000001",
            "3.14159",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Pseudo-random decimals of every length and point position.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 10u64.pow((x >> 60) as u32 % 17 + 1)).to_string();
            let point = (x >> 40) as usize % (digits.len() + 1);
            let sign = if x & 1 == 1 { "-" } else { "" };
            cases.push(format!("{sign}{}.{}", &digits[..point], &digits[point..]));
            cases.push(format!("{sign}{digits}"));
        }
        for c in &cases {
            let fast = parse_float(c.as_bytes()).unwrap();
            let full: f64 = c.parse().unwrap();
            assert_eq!(fast.to_bits(), full.to_bits(), "{c}");
            if let Some(v) = plain_decimal(c.as_bytes()) {
                assert_eq!(v.to_bits(), full.to_bits(), "{c}");
            }
        }
        assert!(parse_int(b"99999999999999999999").is_err());
        assert!(parse_int(b"-1").is_err());
    }
}
