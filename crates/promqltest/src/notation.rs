//! The expanding series notation: `1+2x3 _ 4 stale _x2 -1-1x2`.

use model::Labels;

use crate::Error;

fn syntax(msg: impl Into<String>) -> Error {
    Error::Syntax { line: 0, msg: msg.into() }
}

/// Expands a values string into `(time offset, value)` pairs, `interval_ms` apart; `_` leaves
/// a gap and `stale` is the staleness marker.
pub fn parse_series_values(s: &str, interval_ms: i64) -> Result<Vec<(i64, f64)>, Error> {
    let mut out = Vec::new();
    let mut slot: i64 = 0;
    for item in s.split_whitespace() {
        for v in expand_item(item)? {
            if let Some(v) = v {
                out.push((slot * interval_ms, v));
            }
            slot += 1;
        }
    }
    Ok(out)
}

/// One item: `_`, `_xN`, `v`, `vxN`, `v+dxN`, `v-dxN`, `stale`.
fn expand_item(item: &str) -> Result<Vec<Option<f64>>, Error> {
    if item.contains("{{") || item.contains("}}") {
        return Err(Error::Unsupported("native histogram values".into()));
    }
    let (base, times) = split_times(item)?;
    if base == "_" {
        return Ok(vec![None; times.unwrap_or(1) as usize]);
    }
    let (start, delta) = split_delta(base)?;
    match times {
        None if delta.is_some() => Err(syntax(format!("missing repetition in {item:?}"))),
        None => Ok(vec![Some(start)]),
        Some(n) => {
            let d = delta.unwrap_or(0.0);
            let mut v = start;
            let mut out = Vec::with_capacity(n as usize + 1);
            for _ in 0..=n {
                out.push(Some(v));
                v += d;
            }
            Ok(out)
        }
    }
}

fn split_times(item: &str) -> Result<(&str, Option<u64>), Error> {
    if let Some(i) = item.rfind('x') {
        let (head, tail) = (&item[..i], &item[i + 1..]);
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) && !head.is_empty() {
            let n = tail.parse::<u64>().map_err(|e| syntax(e.to_string()))?;
            if n > 1_000_000 {
                return Err(syntax(format!("repetition too large in {item:?}")));
            }
            return Ok((head, Some(n)));
        }
    }
    Ok((item, None))
}

fn split_delta(s: &str) -> Result<(f64, Option<f64>), Error> {
    let bytes = s.as_bytes();
    for i in 1..bytes.len() {
        let c = bytes[i];
        if (c == b'+' || c == b'-') && !matches!(bytes[i - 1], b'e' | b'E') {
            return Ok((parse_number(&s[..i])?, Some(parse_number(&s[i..])?)));
        }
    }
    Ok((parse_number(s)?, None))
}

/// A series value: a float, `Inf`/`NaN` (any case, signed), a hex integer, or `stale`.
pub fn parse_number(s: &str) -> Result<f64, Error> {
    if s == "stale" {
        return Ok(model::value::stale_nan());
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        _ if lower.starts_with("0x") => i64::from_str_radix(&lower[2..], 16)
            .map_err(|_| syntax(format!("invalid number {s:?}")))?
            as f64,
        _ if lower.contains(['i', 'n']) => return Err(syntax(format!("invalid number {s:?}"))),
        _ => lower.parse::<f64>().map_err(|_| syntax(format!("invalid number {s:?}")))?,
    };
    Ok(if neg { -v } else { v })
}

/// Splits `metric{labels} values` into the series labels and the values text.
pub fn split_series(line: &str) -> Result<(Labels, &str), Error> {
    let mut depth = 0;
    let mut quote = None;
    let mut escaped = false;
    let mut end = line.len();
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => depth += 1,
            '}' => depth -= 1,
            c if c.is_whitespace() && depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let labels = parse_labels(&line[..end])?;
    Ok((labels, line[end..].trim()))
}

/// Parses `metric{a="b"}` or `{a="b"}` into labels.
pub fn parse_labels(s: &str) -> Result<Labels, Error> {
    if s.trim() == "{}" {
        return Ok(Labels::empty());
    }
    let matchers = promql::parser::selectors(s).map_err(|e| syntax(e.to_string()))?;
    let mut pairs = Vec::new();
    for m in matchers.into_iter().flatten() {
        if m.op != model::MatchType::Equal {
            return Err(syntax(format!("series description needs '=' matchers: {s:?}")));
        }
        pairs.push((m.name, m.value));
    }
    Ok(Labels::new(pairs))
}

/// A `load` line: labels and expanded `(t, v)` values.
pub fn parse_series_line(line: &str, interval_ms: i64) -> Result<(Labels, Vec<(i64, f64)>), Error> {
    let (labels, values) = split_series(line)?;
    Ok((labels, parse_series_values(values, interval_ms)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(s: &str) -> Vec<(i64, f64)> {
        parse_series_values(s, 10).unwrap()
    }

    #[test]
    fn expanding_notation() {
        assert_eq!(vals("1+2x2"), vec![(0, 1.0), (10, 3.0), (20, 5.0)]);
        assert_eq!(vals("5 _ 7"), vec![(0, 5.0), (20, 7.0)]);
        assert_eq!(vals("_x2 1"), vec![(20, 1.0)]);
        assert_eq!(vals("1x2"), vec![(0, 1.0), (10, 1.0), (20, 1.0)]);
        assert_eq!(vals("-1-1x1"), vec![(0, -1.0), (10, -2.0)]);
        assert_eq!(vals("1e3"), vec![(0, 1000.0)]);
        assert!(model::value::is_stale_nan(vals("stale")[0].1));
        assert!(vals("Inf -Inf NaN")[2].1.is_nan());
        assert!(parse_series_values("{{schema:1}}", 10).is_err());
        assert!(parse_series_values("abc", 10).is_err());
    }

    #[test]
    fn series_lines() {
        let (l, v) = parse_series_line(r#"up{job="a b"} 1 2"#, 1000).unwrap();
        assert_eq!(l.to_string(), r#"{__name__="up", job="a b"}"#);
        assert_eq!(v.len(), 2);
    }
}
