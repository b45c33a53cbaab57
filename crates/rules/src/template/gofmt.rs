//! Go's formatting of floats (`%v`, `%.4g`), times (`time.Time.String`) and durations
//! (`time.Duration.String`), so template output matches Prometheus byte for byte.

use chrono::{DateTime, Utc};

/// Decimal digits of |f| without trailing zeros and the decimal point position
/// (value = 0.d1d2d3... × 10^dp), as Go's `decimalSlice`.
fn digits(abs: f64, prec: Option<usize>) -> (Vec<u8>, i32) {
    if abs == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match prec {
        None => format!("{abs:e}"),
        Some(p) => format!("{:.*e}", p.max(1) - 1, abs),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    (d, exp + 1)
}

fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        return Some("NaN".into());
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { "+Inf".into() } else { "-Inf".into() });
    }
    None
}

/// Go's `%g` (`prec` = None is the shortest representation, as `%v` prints floats).
pub fn format_g(f: f64, prec: Option<usize>) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let neg = f.is_sign_negative();
    let (d, dp) = digits(f.abs(), prec);
    let nd = d.len() as i32;
    let shortest = prec.is_none();
    let mut p = match prec {
        None => nd,
        Some(p) => p.max(1) as i32,
    };
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= eprec {
        if p > nd {
            p = nd;
        }
        fmt_e(&mut out, &d, dp, (p - 1).max(0) as usize);
        return out;
    }
    if p > dp {
        p = nd;
    }
    fmt_f(&mut out, &d, dp, (p - dp).max(0) as usize);
    out
}

fn digit(d: &[u8], i: i32) -> char {
    if i >= 0 && (i as usize) < d.len() { d[i as usize] as char } else { '0' }
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    out.push(digit(d, 0));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(digit(d, i as i32));
        }
    }
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(d, i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit(d, dp + i));
        }
    }
}

/// Go's `time.Time.String()` of a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn format_time(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    let frac = if nanos == 0 {
        String::new()
    } else {
        let s = format!(".{nanos:09}");
        s.trim_end_matches('0').to_string()
    };
    format!("{base}{frac} +0000 UTC")
}

/// Go's `time.Duration.String()` of a duration in nanoseconds.
pub fn format_go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac_str(u, div));
    }
    let secs_total = u / 1_000_000_000;
    let h = secs_total / 3600;
    let m = (secs_total / 60) % 60;
    let s_ns = u - (h * 3600 + m * 60) * 1_000_000_000;
    let s = frac_str(s_ns, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

fn frac_str(v: u64, div: u64) -> String {
    let int = v / div;
    let rem = v % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let f = format!("{rem:0width$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go() {
        let cases: &[(f64, Option<usize>, &str)] = &[
            (1234567.0, None, "1.234567e+06"),
            (100000.0, None, "100000"),
            (1e6, None, "1e+06"),
            (0.0001, None, "0.0001"),
            (0.00001, None, "1e-05"),
            (0.5, None, "0.5"),
            (-2.0, None, "-2"),
            (0.0, None, "0"),
            (f64::INFINITY, None, "+Inf"),
            (f64::NAN, Some(4), "NaN"),
            (1234.5, Some(4), "1234"),
            (12345.0, Some(4), "1.234e+04"),
            (1.0, Some(4), "1"),
            (0.0, Some(4), "0"),
            (123.456, Some(4), "123.5"),
            (0.000123456, Some(4), "0.0001235"),
            (1.5e-7, Some(4), "1.5e-07"),
            (999.99, Some(4), "1000"),
        ];
        for (f, p, want) in cases {
            assert_eq!(format_g(*f, *p), *want, "{f} {p:?}");
        }
    }

    #[test]
    fn times_and_durations_print_as_go() {
        let t = DateTime::from_timestamp(1_600_000_000, 500_000_000).unwrap();
        assert_eq!(format_time(t), "2020-09-13 12:26:40.5 +0000 UTC");
        assert_eq!(format_go_duration(3_723_000_000_000), "1h2m3s");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(500_000_000), "500ms");
        assert_eq!(format_go_duration(-60_000_000_000), "-1m0s");
    }
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)` (alert values in `/api/v1/alerts`).
pub fn format_e_shortest(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let (d, dp) = digits(f.abs(), None);
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    fmt_e(&mut out, &d, dp, d.len().saturating_sub(1));
    out
}

#[cfg(test)]
mod e_tests {
    #[test]
    fn e_format() {
        assert_eq!(super::format_e_shortest(1.0), "1e+00");
        assert_eq!(super::format_e_shortest(0.0), "0e+00");
        assert_eq!(super::format_e_shortest(1234.5), "1.2345e+03");
        assert_eq!(super::format_e_shortest(-0.05), "-5e-02");
    }
}
