//! The shortest decimal digits of a float64 as Go's `strconv` chooses them, in the two
//! notations the HTTP API's formatters and tests build on (Rust's `{}` and `{:e}` layouts),
//! and Go's `'g'` format built on them.
//!
//! Go and Rust both print the fewest significant digits that read back as the same float, but
//! when two candidates of that length are equally close to the float's exact value, Go keeps
//! the one rounded half to even and Rust the one rounded up: 3829.86553955078125 prints as
//! `3829.8655395507812` in Prometheus and `3829.8655395507813` through Rust's formatting. Such
//! a tie needs a float whose exact decimal expansion has only one digit more than its shortest
//! form (at most 18 significant digits), which a cheap test on its binary exponent rules out
//! for almost every value, so the slow exact check runs only for those that may tie.

/// `v` (finite) in Rust's `{}` layout (fixed notation) with Go's digits.
pub fn fixed(v: f64) -> String {
    if !may_tie(v) {
        return format!("{v}");
    }
    let (neg, digits, exp) = go_digits(v);
    let sign = if neg { "-" } else { "" };
    let n = digits.len() as i32;
    if exp >= n - 1 {
        format!("{sign}{digits}{}", "0".repeat((exp - n + 1) as usize))
    } else if exp >= 0 {
        let (a, b) = digits.split_at(exp as usize + 1);
        format!("{sign}{a}.{b}")
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    }
}

/// `v` (finite) in Rust's `{:e}` layout (`1.5e-7`, `1e21`) with Go's digits.
pub fn scientific(v: f64) -> String {
    if !may_tie(v) {
        return format!("{v:e}");
    }
    let (neg, digits, exp) = go_digits(v);
    let sign = if neg { "-" } else { "" };
    let (a, b) = digits.split_at(1);
    if b.is_empty() { format!("{sign}{a}e{exp}") } else { format!("{sign}{a}.{b}e{exp}") }
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which `fmt`'s `%v` also prints: the shortest
/// digits, with an exponent (`1e+06`, `1e-05`) when it is below -4 or at least 6; `NaN`, `+Inf`,
/// `-Inf`.
pub fn g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = scientific(v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return fixed(v);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.unsigned_abs())
}

/// False when `v` cannot have two equally close shortest forms: its exact value has more than
/// 18 significant digits. A float `m * 2^e` with `m` odd and `e < 0` has exactly `-e` digits
/// after the decimal point; one with `e >= 0` is an integer, short only below 10^19.
fn may_tie(v: f64) -> bool {
    if v == 0.0 || !v.is_finite() {
        return false;
    }
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (mant, e) = if biased == 0 { (frac, -1074) } else { (frac | (1 << 52), biased - 1075) };
    let e = e + mant.trailing_zeros() as i32;
    if e >= 0 { v.abs() < 1e19 } else { fractional_digits_short(v, -e) }
}

/// Whether a value with `k` digits after the point may have at most 18 significant digits
/// (one digit of slack for `log10`'s rounding: a false yes only costs the exact check).
fn fractional_digits_short(v: f64, k: i32) -> bool {
    let a = v.abs();
    // Digits before the point, or minus the zeros right after it.
    let lead = if a >= 1.0 { a.log10().floor() as i32 + 1 } else { a.log10().ceil() as i32 };
    lead + k <= 19
}

/// Go's shortest digits of `v`: (negative, digits, decimal exponent of the first digit).
fn go_digits(v: f64) -> (bool, String, i32) {
    let parts = |s: &str| -> (String, i32) {
        let (m, e) = s.split_once('e').unwrap_or((s, "0"));
        (m.chars().filter(char::is_ascii_digit).collect(), e.parse().unwrap_or(0))
    };
    let (digits, exp) = parts(&format!("{:e}", v.abs()));
    // 41 significant digits show a value of at most 19 exactly, with trailing zeros.
    let (exact, exact_exp) = parts(&format!("{:.40e}", v.abs()));
    let exact = exact.trim_end_matches('0');
    let n = digits.len();
    if exact.len() == n + 1 && exact.ends_with('5') && exact_exp == exp {
        let base = &exact[..n];
        if base.bytes().last().is_some_and(|d| (d - b'0').is_multiple_of(2)) {
            return (v.is_sign_negative(), base.to_string(), exp);
        }
    }
    (v.is_sign_negative(), digits, exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)] // the float's exact value, digit for digit
    fn ties_round_half_to_even_as_go() {
        // Prometheus 2.42 prints these (node_temperature_celsius ^ 7 in the differential test).
        assert_eq!(fixed(3829.86553955078125), "3829.8655395507812");
        assert_eq!(fixed(-3829.86553955078125), "-3829.8655395507812");
        assert_eq!(scientific(3829.86553955078125), "3.8298655395507812e3");
    }

    #[test]
    fn g_format_as_go() {
        let cases = [
            (1.0, "1"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e21, "1e+21"),
            (1e-7, "1e-07"),
            (-1e-320, "-1e-320"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (123456789.125, "1.23456789125e+08"),
            (123456789.0, "1.23456789e+08"),
            (1.5, "1.5"),
            (100.0, "100"),
            (-0.5, "-0.5"),
            (f64::NAN, "NaN"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
        ];
        for (v, want) in cases {
            assert_eq!(g(v), want, "{v:?}");
        }
    }

    #[test]
    fn values_that_cannot_tie_print_as_rust_does() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if !v.is_finite() {
                continue;
            }
            assert_eq!(fixed(v).parse::<f64>().ok(), Some(v), "{v:e}");
            assert_eq!(scientific(v).parse::<f64>().ok(), Some(v), "{v:e}");
            if !may_tie(v) {
                continue;
            }
            // Go's choice differs from Rust's only in the last digit, by one.
            let (rust, go) = (format!("{:e}", v.abs()), scientific(v.abs()));
            assert_eq!(rust.len(), go.len(), "{rust} {go}");
        }
        for v in [0.1, 0.30000000000000004, 1e21, 1e-7, 123456789.0, 2f64.powi(60), 5e-324] {
            assert_eq!(fixed(v), format!("{v}"));
            assert_eq!(scientific(v), format!("{v:e}"));
        }
    }

    #[test]
    fn the_cheap_test_keeps_every_tie() {
        // Floats with short exact expansions: k / 2^j. Every tie among them must pass
        // `may_tie`, or its digits would be Rust's.
        let mut ties = 0;
        for j in 0..60 {
            for k in (1u64..4000).step_by(7) {
                let v = (k as f64 * 1e15 + 0.5) / 2f64.powi(j);
                let (_, digits, _) = go_digits(v);
                let rust = format!("{:e}", v).split('e').next().unwrap_or("").replace('.', "");
                if digits != rust {
                    assert!(may_tie(v), "{v:e}");
                    ties += 1;
                }
            }
        }
        assert!(ties > 10, "{ties} ties: the values should hold some");
    }
}
