//! JSON rendering exactly as Prometheus writes it: sample values as strings in Go's float
//! format, timestamps as float seconds with millisecond digits, label sets as objects, and Go's
//! HTML-safe string escaping.

use std::fmt::Write;

use model::Labels;

/// Formats a sample value as Prometheus' `jsonutil.MarshalFloat`: Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)`, switching to `'e'` below 1e-6 and from 1e21.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        go_exponent(&model::go_float::scientific(v))
    } else {
        // The shortest round-trip decimal without exponent, as Go's 'f', -1.
        model::go_float::fixed(v)
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` (scalar results), with `NaN`/`+Inf`/`-Inf`.
pub fn format_value_f(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    model::go_float::fixed(v)
}

/// A float64 as Go's `encoding/json` writes it (shortest; exponent below 1e-6 and from 1e21,
/// as `1e-7` / `1e+21`). Non-finite values cannot occur for timestamps.
pub fn go_json_float(v: f64) -> String {
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let e = model::go_float::scientific(v);
        let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
        if exp.starts_with('-') { format!("{mant}e{exp}") } else { format!("{mant}e+{exp}") }
    } else {
        model::go_float::fixed(v)
    }
}

/// Rust's `1.5e-7` to Go's `1.5e-07`.
fn go_exponent(rust: &str) -> String {
    let (mant, exp) = rust.split_once('e').unwrap_or((rust, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    if digits.len() < 2 {
        format!("{mant}e{sign}0{digits}")
    } else {
        format!("{mant}e{sign}{digits}")
    }
}

/// Writes a millisecond timestamp as Prometheus' `jsonutil.MarshalTimestamp` (e.g. `1.500`).
pub fn write_timestamp(out: &mut String, t: i64) {
    let mut t = t as i128;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let _ = write!(out, "{}", t / 1000);
    let frac = t % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// Writes a JSON string with Go's `encoding/json` escaping (`<`, `>`, `&`, U+2028/9 escaped).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a label set as a JSON object in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

/// Writes `[<ts>,"<value>"]`.
pub fn write_point(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push_str(",\"");
    out.push_str(&format_value(v));
    out.push_str("\"]");
}

/// Re-escapes serde_json output the way Go does: outside strings these characters cannot
/// occur in JSON, so a global replacement is exact.
pub fn go_escape(json: String) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Formats a millisecond timestamp as Go's `time.Time` JSON (RFC 3339 with trimmed
/// nanoseconds, UTC); `None` is Go's zero time.
pub fn format_go_time(t: Option<i64>) -> String {
    let Some(t) = t else { return "0001-01-01T00:00:00Z".into() };
    let Some(dt) = chrono::DateTime::from_timestamp_millis(t) else {
        return "0001-01-01T00:00:00Z".into();
    };
    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ms = t.rem_euclid(1000);
    if ms != 0 {
        let frac = format!("{ms:03}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_go() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (-0.0, "-0"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-07"),
            (1e-6, "0.000001"),
            (123456789.125, "123456789.125"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (v, want) in cases {
            assert_eq!(format_value(v), want, "{v:?}");
        }
    }

    #[test]
    fn timestamps_and_strings() {
        let mut s = String::new();
        write_timestamp(&mut s, 1500);
        s.push(' ');
        write_timestamp(&mut s, -1);
        s.push(' ');
        write_timestamp(&mut s, 4000);
        assert_eq!(s, "1.500 -0.001 4");
        let mut s = String::new();
        write_str(&mut s, "a<b>\"\n\u{1}");
        assert_eq!(s, r#""a\u003cb\u003e\"\n\u0001""#);
        assert_eq!(format_go_time(Some(1_500)), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_go_time(None), "0001-01-01T00:00:00Z");
    }
}
