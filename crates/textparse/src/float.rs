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

/// The largest decimal exponent the exact integer path handles: 5^27 < 2^63.
const MAX_EXP10: i32 = 27;

/// The common case of exposition values, `[-]digits[.digits][(e|E)[+-]digits]` with at most
/// 19 significant digits and a decimal exponent within ±27, computed exactly and rounded once:
/// with the digits as one integer `m` at most 2^53 and a power of ten that is exact in f64, by
/// one IEEE multiplication or division (Clinger's fast path); otherwise by 128-bit integer
/// arithmetic on `m` and a power of five (a negative exponent by a multiplication with the
/// power's reciprocal, checked to decide the rounding), rounded to nearest even by hand.
/// Either way the result equals the full parser's. Anything else (`+`, more digits, larger exponents, NaN,
/// Inf, garbage) returns `None` for the full parser.
fn plain_decimal(s: &[u8]) -> Option<f64> {
    decimal_prefix(s).and_then(|(v, n)| (n == s.len()).then_some(v))
}

/// [`plain_decimal`] of the longest prefix of `s` that has the form, with the prefix's length:
/// lets the parser read a value in one pass when the byte after it ends the token.
#[inline]
pub(crate) fn decimal_prefix(s: &[u8]) -> Option<(f64, usize)> {
    let (neg, rest) = match s.first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let mut m: u64 = 0;
    let int_len = digit_run(rest, &mut m);
    let mut i = int_len;
    let mut frac = 0;
    if rest.get(i) == Some(&b'.') {
        frac = digit_run(&rest[i + 1..], &mut m);
        i += 1 + frac;
    }
    // At most 19 digits (leading zeros included) fit `m` exactly; more go to the full parser.
    if int_len + frac == 0 || int_len + frac > 19 {
        return None;
    }
    let frac = frac as i32;
    let mut exp10 = -frac;
    if let Some(b'e' | b'E') = rest.get(i) {
        let mut j = i + 1;
        let eneg = match rest.get(j) {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => {
                j -= 1;
                false
            }
        };
        j += 1;
        let start = j;
        let mut e = 0i32;
        while let Some(&d) = rest.get(j).filter(|d| d.is_ascii_digit()) {
            if j - start == 4 {
                return None;
            }
            e = e * 10 + i32::from(d - b'0');
            j += 1;
        }
        if j == start {
            return None;
        }
        exp10 += if eneg { -e } else { e };
        i = j;
    }
    let v = if m == 0 {
        0.0
    } else if m <= 1 << 53 && exp10.abs() <= 22 {
        let p = POW10[exp10.unsigned_abs() as usize];
        if exp10 < 0 { m as f64 / p } else { m as f64 * p }
    } else if (-MAX_EXP10..0).contains(&exp10) {
        exact_div(m, exp10.unsigned_abs())
    } else if (0..=MAX_EXP10).contains(&exp10) {
        exact(m, exp10)
    } else {
        return None;
    };
    Some((if neg { -v } else { v }, i + usize::from(neg)))
}

/// Appends the run of ASCII digits at the start of `s` to `m` (`m * 10^len + run`, wrapping
/// when the run is too long for that to be exact) and returns the run's length. Eight bytes
/// at a time while the buffer has them, including the chunk where the run ends: its digits
/// are found by the lowest non-digit byte and valued in one step, so the run's length costs
/// no loop exit per digit.
#[inline]
fn digit_run(s: &[u8], m: &mut u64) -> usize {
    let mut i = 0;
    while let Some(Ok(chunk)) = s.get(i..i + 8).map(<[u8; 8]>::try_from) {
        let v = u64::from_le_bytes(chunk);
        let non_digits = non_digit_bytes(v);
        if non_digits == 0 {
            *m = m.wrapping_mul(100_000_000).wrapping_add(eight_digit_value(v));
            i += 8;
            continue;
        }
        let j = (non_digits.trailing_zeros() / 8) as usize;
        if j > 0 {
            // The j digits at the bottom moved to the top, '0's below them: an eight-digit
            // number with the same value.
            let padded = (v << (8 * (8 - j))) | (0x3030_3030_3030_3030 >> (8 * j));
            *m = m.wrapping_mul(POW10_U64[j]).wrapping_add(eight_digit_value(padded));
        }
        return i + j;
    }
    while let Some(&b) = s.get(i).filter(|b| b.is_ascii_digit()) {
        *m = m.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        i += 1;
    }
    i
}

/// Powers of ten below 10^8 as integers.
const POW10_U64: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// Bit 7 of each byte of `v` that is not an ASCII digit, correct up to and including the
/// lowest such byte (the sum and difference carry only upwards from a non-digit byte).
fn non_digit_bytes(v: u64) -> u64 {
    (v.wrapping_add(0x4646_4646_4646_4646) | v.wrapping_sub(0x3030_3030_3030_3030))
        & 0x8080_8080_8080_8080
}

/// Whether all eight bytes of `v` are ASCII digits (a byte >= ':' sets bit 7 of the sum, a
/// byte < '0' of the difference; the lowest non-digit byte is computed without carries).
#[cfg(test)]
fn eight_digits(v: u64) -> bool {
    non_digit_bytes(v) == 0
}

/// The value of eight ASCII digits, the first in the lowest byte: pairs, then quads, then all.
fn eight_digit_value(v: u64) -> u64 {
    let v = v.wrapping_sub(0x3030_3030_3030_3030);
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let hi = (v & 0x0000_00ff_0000_00ff).wrapping_mul(100 + (1_000_000 << 32));
    let lo = ((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32));
    u64::from(((hi.wrapping_add(lo)) >> 32) as u32)
}

/// `m * 10^exp10` correctly rounded, for `m > 0` and `|exp10| <= MAX_EXP10`.
fn exact(m: u64, exp10: i32) -> f64 {
    let five = 5u64.pow(exp10.unsigned_abs());
    if exp10 >= 0 {
        // m * 10^e = (m * 5^e) * 2^e, the product exact in 128 bits.
        round_scaled(u128::from(m) * u128::from(five), false, exp10)
    } else {
        // m / 10^k = ((m << s) / 5^k) * 2^(-s-k), with the quotient at least 64 bits long
        // and the remainder kept as a sticky bit.
        let s = m.leading_zeros() + 64;
        let n = u128::from(m) << s;
        let (q, r) = (n / u128::from(five), n % u128::from(five));
        round_scaled(q, r != 0, exp10 - s as i32)
    }
}

/// `floor(2^(127 + L) / 5^k) + 1` with `L` the bit length of `5^k`, and `L`, for `k` in
/// `1..=MAX_EXP10`: a 128-bit reciprocal of `5^k` with its top bit set, rounded up.
const RECIP5: [(u128, u32); MAX_EXP10 as usize + 1] = {
    let mut t = [(0u128, 0u32); MAX_EXP10 as usize + 1];
    let mut k = 1;
    while k <= MAX_EXP10 as usize {
        let d = 5u64.pow(k as u32);
        let l = 64 - d.leading_zeros();
        // Long division of 2^(127 + l) by d, one bit at a time (the remainder stays below 2d).
        let (mut q, mut r) = (0u128, 1u128);
        let mut i = 0;
        while i < 127 + l {
            q <<= 1;
            r <<= 1;
            if r >= d as u128 {
                r -= d as u128;
                q |= 1;
            }
            i += 1;
        }
        t[k] = (q + 1, l);
        k += 1;
    }
    t
};

/// `m / 10^k` correctly rounded, for `m > 0` and `1 <= k <= MAX_EXP10`, without a 128-bit
/// division: with `n = m << s` normalised as in [`exact`], `t = floor(n_hi * R / 2^64)` (`R`
/// the rounded-up reciprocal of `5^k` in [`RECIP5`]) is within 1 of `(n / 5^k) * 2^(L-1)`, so
/// rounding `t` to 53 bits decides as the exact quotient would unless the bits dropped are
/// within 1 of half of their range; those rare cases (exact ties among them) take [`exact`].
fn exact_div(m: u64, k: u32) -> f64 {
    let (r, l) = RECIP5[k as usize];
    let lz = m.leading_zeros();
    let mn = u128::from(m << lz);
    let t = mn * (r >> 64) + ((mn * (r as u64 as u128)) >> 64);
    // t >= 2^126: mn >= 2^63 and r > 2^127.
    let shift = 128 - t.leading_zeros() - 53;
    let rem = t & ((1u128 << shift) - 1);
    let half = 1u128 << (shift - 1);
    if rem.abs_diff(half) <= 1 {
        return exact(m, -(k as i32));
    }
    let mant = (t >> shift) as u64 + u64::from(rem > half);
    // The value is t * 2^(-k - (lz + 64) - (l - 1)); mant <= 2^53 and the result is normal.
    let e = shift as i32 - k as i32 - (lz + 64) as i32 - (l as i32 - 1);
    mant as f64 * f64::from_bits(((e + 1023) as u64) << 52)
}

/// `q * 2^e` (plus a little more if `sticky`) rounded to 53 bits, to nearest even.
fn round_scaled(q: u128, sticky: bool, e: i32) -> f64 {
    let bits = 128 - q.leading_zeros();
    let shift = bits.saturating_sub(53);
    let mut mant = (q >> shift) as u64;
    if shift > 0 {
        let rem = q & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && (sticky || mant & 1 == 1)) {
            mant += 1;
        }
    }
    // Exact: mant <= 2^53 and the result is a normal number for these inputs.
    let e = e + shift as i32;
    mant as f64 * f64::from_bits(((e + 1023) as u64) << 52)
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
            let e = (x >> 20) as i32 % 60 - 30;
            cases.push(format!("{sign}{}.{}e{e}", &digits[..point], &digits[point..]));
            cases.push(format!("{sign}{digits}E+{}", e.unsigned_abs()));
        }
        // Long mantissas (16 to 19 significant digits) as Go and ryu print them, ties, and
        // halfway cases that only the remainder decides.
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = x % 10u64.pow(19);
            let digits = m.to_string();
            let point = (x >> 50) as usize % (digits.len() + 1);
            cases.push(format!("{}.{}", &digits[..point], &digits[point..]));
            let e = (x >> 32) as i32 % 56 - 28;
            cases.push(format!("{digits}e{e}"));
            let v = f64::from_bits((x >> 12) | 0x3ff0_0000_0000_0000) * 1e6;
            cases.push(format!("{v}"));
            let any = f64::from_bits(x >> 1);
            if any.is_finite() {
                cases.push(format!("{any:e}"));
            }
        }
        for tie in
            ["9007199254740993", "9007199254740995", "18014398509481986", "18014398509481990"]
        {
            cases.push(tie.to_string());
            cases.push(format!("{tie}.000000000000000000001e0"));
            cases.push(format!("{tie}e-5"));
        }
        let mut fast_path = 0;
        for c in &cases {
            let fast = parse_float(c.as_bytes()).unwrap_or_else(|e| panic!("{c}: {e}"));
            let full: f64 = c.parse().unwrap();
            assert_eq!(fast.to_bits(), full.to_bits(), "{c}");
            if let Some(v) = plain_decimal(c.as_bytes()) {
                assert_eq!(v.to_bits(), full.to_bits(), "{c}");
                fast_path += 1;
            }
        }
        // Most cases are within the fast path's reach, the long mantissas included.
        assert!(fast_path * 2 > cases.len(), "{fast_path} of {}", cases.len());
        assert!(plain_decimal(b"12345678901.538462").is_some());
        assert!(plain_decimal(b"1.446521e+06").is_some());
        assert_eq!(decimal_prefix(b"1.5e3 17"), Some((1500.0, 5)));
        assert_eq!(decimal_prefix(b"-2E-2}"), Some((-0.02, 5)));
        assert_eq!(decimal_prefix(b"7\n"), Some((7.0, 1)));
        assert_eq!(decimal_prefix(b"1234567890123456789 "), Some((1234567890123456789.0, 19)));
        assert_eq!(decimal_prefix(b"12345678.87654321e-3\n"), Some((12345.67887654321, 20)));
        assert_eq!(decimal_prefix(b"12345678/"), Some((12345678.0, 8)));
        for (i, c) in (0..=255u8).filter(|c| !c.is_ascii_digit()).enumerate() {
            let mut s = *b"98765432";
            s[i % 8] = c;
            assert!(!eight_digits(u64::from_le_bytes(s)), "{s:?}");
        }
        assert_eq!(eight_digit_value(u64::from_le_bytes(*b"01234567")), 1_234_567);
        // Runs ending at every position of a chunk, before any byte.
        for len in 0..=20 {
            for end in [b'.', b' ', b'\n', b'e', b'/', b':', 0x80, 0xff, 0] {
                let mut s: Vec<u8> = b"98765432109876543210"[..len].to_vec();
                s.push(end);
                s.extend_from_slice(b"123456789");
                let mut m = 7;
                assert_eq!(digit_run(&s, &mut m), len, "{len} {end}");
                let want =
                    s[..len].iter().fold(7u64, |a, &d| a.wrapping_mul(10) + u64::from(d - b'0'));
                assert_eq!(m, want, "{len} {end}");
            }
        }
        for bad in [&b"1e"[..], b"1e+", b"1e 5", b"1e12345", b"-", b".", b"e5", b"+1"] {
            assert_eq!(decimal_prefix(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_int(b"99999999999999999999").is_err());
        assert!(parse_int(b"-1").is_err());
    }

    #[test]
    fn division_by_reciprocal_equals_the_exact_division() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut checked = 0;
        for k in 1..=MAX_EXP10 as u32 {
            let five = 5u64.pow(k);
            for i in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Any mantissa, short ones, and multiples of 5^k (exact quotients and ties).
                let m = match i % 4 {
                    0 => x,
                    1 => x >> (x % 64),
                    _ => (x >> (five.leading_zeros() ^ 63).min(63)).max(1).saturating_mul(five),
                };
                if m == 0 {
                    continue;
                }
                let want = exact(m, -(k as i32));
                assert_eq!(exact_div(m, k).to_bits(), want.to_bits(), "{m}e-{k}");
                checked += 1;
            }
        }
        assert!(checked > 500_000);
    }
}
