//! Go's `strconv.ParseFloat(s, 64)`: which strings it reads as a float64, and the value.
//!
//! Prometheus reads API times and durations with it, so its grammar is the API's: decimal
//! literals with an optional sign, `.` and exponent; hexadecimal ones (`0x1.8p3`, the `p`
//! exponent required); `_` between digits (or after a base prefix); `inf`, `infinity` (with a
//! sign) and `nan` (without) in any case. A finite literal beyond the float64 range is an
//! error (Go returns ±Inf with `ErrRange`, which callers treat as "not a float"); one below it
//! rounds to zero, as in Go. Rust's `f64::from_str` agrees with Go on the value of every
//! decimal literal (both round correctly) but not on the grammar, which is checked here first.

/// Why Go refuses a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtofError {
    /// Not a float literal (`ErrSyntax`).
    Syntax,
    /// A literal beyond the float64 range (`ErrRange`; Go's value would be ±Inf).
    Range,
}

/// Go's `strconv.ParseFloat(s, 64)`.
pub fn parse(s: &str) -> Result<f64, AtofError> {
    if let Some(v) = special(s) {
        return Ok(v);
    }
    let lit = scan(s.as_bytes()).ok_or(AtofError::Syntax)?;
    let v = if lit.hex {
        hex_value(&lit)
    } else {
        let plain: String = s.chars().filter(|&c| c != '_').collect();
        plain.parse::<f64>().map_err(|_| AtofError::Syntax)?
    };
    if v.is_infinite() { Err(AtofError::Range) } else { Ok(v) }
}

/// `inf`, `infinity` (optionally signed) and `nan` (unsigned), in any case, as the whole string.
fn special(s: &str) -> Option<f64> {
    let (neg, signed, rest) = match s.as_bytes().first()? {
        b'+' => (false, true, &s[1..]),
        b'-' => (true, true, &s[1..]),
        _ => (false, false, s),
    };
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        return Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    (!signed && rest.eq_ignore_ascii_case("nan")).then_some(f64::NAN)
}

/// A syntactically valid literal: for hexadecimal ones, the first 16 significant digits as an
/// integer, whether a non-zero digit was dropped, and the binary exponent of the integer's
/// last digit.
struct Literal {
    hex: bool,
    neg: bool,
    mantissa: u64,
    sticky: bool,
    exp2: i64,
}

/// Checks Go's float grammar over the whole string (`readFloat` plus `underscoreOK`).
fn scan(b: &[u8]) -> Option<Literal> {
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let hex = i + 2 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x';
    if hex {
        i += 2;
    }
    let (mut saw_dot, mut saw_digits, mut underscores) = (false, false, false);
    let (mut mantissa, mut kept, mut sticky) = (0u64, 0i64, false);
    // Significant digits seen, and those before the point.
    let (mut digits, mut before_dot) = (0i64, 0i64);
    while i < b.len() {
        let c = b[i];
        let d = match c {
            b'_' => {
                underscores = true;
                i += 1;
                continue;
            }
            b'.' if !saw_dot => {
                saw_dot = true;
                before_dot = digits;
                i += 1;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' | b'A'..=b'F' if hex => (c | 0x20) - b'a' + 10,
            _ => break,
        };
        saw_digits = true;
        i += 1;
        if d == 0 && digits == 0 {
            // Leading zeros only move the point.
            if saw_dot {
                before_dot -= 1;
            }
            continue;
        }
        digits += 1;
        if kept < 16 {
            mantissa = mantissa * 16 + u64::from(d);
            kept += 1;
        } else if d != 0 {
            sticky = true;
        }
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        before_dot = digits;
    }
    let exp_char = if hex { b'p' } else { b'e' };
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] | 0x20) == exp_char {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            if b[i] == b'_' {
                underscores = true;
            } else if exp < 100_000 {
                exp = exp * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if eneg {
            exp = -exp;
        }
    } else if hex {
        return None;
    }
    if i != b.len() || (underscores && !underscore_ok(b)) {
        return None;
    }
    // Value = mantissa * 16^(before_dot - kept) * 2^exp for hexadecimal literals.
    let exp2 = 4 * (before_dot - kept) + exp;
    Some(Literal { hex, neg, mantissa, sticky, exp2 })
}

/// Go's rule: an underscore only between digits, or between a base prefix and a digit.
fn underscore_ok(b: &[u8]) -> bool {
    let mut s = b;
    if matches!(s.first(), Some(b'+' | b'-')) {
        s = &s[1..];
    }
    // The previous character: start, digit (or base prefix), underscore, other.
    let mut saw = b'^';
    let mut hex = false;
    let mut i = 0;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = (s[1] | 0x20) == b'x';
    }
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `mantissa * 2^exp2` (with `sticky` standing for dropped non-zero bits) rounded to the
/// nearest float64, ties to even; beyond the range it is infinite.
fn hex_value(l: &Literal) -> f64 {
    let sign = if l.neg { -1.0 } else { 1.0 };
    if l.mantissa == 0 {
        return sign * 0.0;
    }
    // Normalise to 64 significant bits: the value is m * 2^e with m in [2^63, 2^64).
    let lz = l.mantissa.leading_zeros();
    let m = u128::from(l.mantissa << lz);
    let e = l.exp2 - i64::from(lz);
    let top = e + 63;
    // Keep 53 bits, fewer for subnormals (the smallest exponent of a normal float is -1022).
    let shift = if top < -1022 { 11 + (-1022 - top) } else { 11 };
    if shift > 64 {
        return sign * 0.0;
    }
    let mut kept = m >> shift;
    let rest = m & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rest > half || (rest == half && (l.sticky || kept & 1 == 1)) {
        kept += 1;
    }
    // kept * 2^(e + shift), exact: in two power-of-two factors that are each normal.
    let k = e + shift;
    let (k1, k2) = (k / 2, k - k / 2);
    sign * (kept as f64) * pow2(k1) * pow2(k2)
}

/// 2^k for k within the normal exponents, saturating outside them.
fn pow2(k: i64) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_literals_as_go() {
        assert_eq!(parse("1.5"), Ok(1.5));
        assert_eq!(parse("+1.5"), Ok(1.5));
        assert_eq!(parse("-.5"), Ok(-0.5));
        assert_eq!(parse("5."), Ok(5.0));
        assert_eq!(parse("1e3"), Ok(1000.0));
        assert_eq!(parse("1E-3"), Ok(0.001));
        assert_eq!(parse("1_000.5"), Ok(1000.5));
        assert_eq!(parse("1e1_0"), Ok(1e10));
        assert_eq!(parse("1e-400"), Ok(0.0));
        assert_eq!(parse("1e400"), Err(AtofError::Range));
        assert_eq!(parse("-1e400"), Err(AtofError::Range));
        for bad in
            ["", ".", "e5", "1e", "1e+", "--1", "1.2.3", "_1", "1_", "1__0", "1._5", " 1", "1 "]
        {
            assert_eq!(parse(bad), Err(AtofError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn specials_as_go() {
        assert_eq!(parse("Inf"), Ok(f64::INFINITY));
        assert_eq!(parse("+infinity"), Ok(f64::INFINITY));
        assert_eq!(parse("-INF"), Ok(f64::NEG_INFINITY));
        assert!(parse("NaN").is_ok_and(f64::is_nan));
        for bad in ["+nan", "-NaN", "infinit", "nana", "in"] {
            assert_eq!(parse(bad), Err(AtofError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn hexadecimal_literals_as_go() {
        assert_eq!(parse("0x1p-2"), Ok(0.25));
        assert_eq!(parse("0X1.8p1"), Ok(3.0));
        assert_eq!(parse("-0x10p0"), Ok(-16.0));
        assert_eq!(parse("0x_1p4"), Ok(16.0));
        assert_eq!(parse("0x.8p1"), Ok(1.0));
        assert_eq!(parse("0x1p-1074"), Ok(5e-324));
        assert_eq!(parse("0x1p-1075"), Ok(0.0));
        assert_eq!(parse("0x1.8p-1075"), Ok(5e-324));
        assert_eq!(parse("0x1.fffffffffffff8p0"), Ok(2.0));
        assert_eq!(parse("0x1.fffffffffffff7p0"), Ok(f64::from_bits(0x3fff_ffff_ffff_ffff)));
        assert_eq!(parse("0x1p1023"), Ok(2f64.powi(1023)));
        assert_eq!(parse("0x1p1024"), Err(AtofError::Range));
        for bad in ["0x10", "0x", "0x1p", "0xg", "0x1.8"] {
            assert_eq!(parse(bad), Err(AtofError::Syntax), "{bad:?}");
        }
    }
}
