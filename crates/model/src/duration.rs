//! Prometheus' duration notation: `1h30m`, `15s`, `500ms`, `2d`, `1w`, `1y`.
//!
//! Units are `y` (365 d), `w`, `d`, `h`, `m`, `s` and `ms`, each at most once and in that order,
//! as in Prometheus' `model.ParseDuration`. `0` alone is accepted. Values are milliseconds.

use crate::ModelError;

const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

fn invalid(s: &str) -> ModelError {
    ModelError::InvalidDuration(s.to_string())
}

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, ModelError> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid(s));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: i64 = 0;
    let mut last_unit = usize::MAX;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(invalid(s));
        }
        let n: i64 = s[start..i].parse().map_err(|_| invalid(s))?;
        let rest = &s[i..];
        // "ms" must be tried before "m".
        let (idx, (unit, mult)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .ok_or_else(|| invalid(s))?;
        if last_unit != usize::MAX && idx <= last_unit {
            return Err(invalid(s));
        }
        last_unit = idx;
        i += unit.len();
        total =
            n.checked_mul(*mult).and_then(|v| total.checked_add(v)).ok_or_else(|| invalid(s))?;
    }
    Ok(total)
}

/// Formats milliseconds as Prometheus' `model.Duration.String()` does: largest units first,
/// years and weeks only when they divide the rest exactly (`8d` and `90d`, not `1w1d` or
/// `12w6d`), `0s` for zero, and nothing for a negative duration (Go's formatter writes no
/// unit whose count is not positive).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    const EXACT_ONLY: [&str; 2] = ["y", "w"];
    let mut out = String::new();
    let mut rest = ms;
    for (unit, mult) in UNITS {
        if EXACT_ONLY.contains(&unit) && rest % mult != 0 {
            continue;
        }
        let v = rest / mult;
        if v > 0 {
            out.push_str(&format!("{v}{unit}"));
            rest -= v * mult;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration("15s"), Ok(15_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("1m500ms"), Ok(60_500));
        assert_eq!(parse_duration("2d"), Ok(172_800_000));
        assert_eq!(parse_duration("1y"), Ok(31_536_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "1", "s", "1x", "30m1h", "1h1h", "-1s", "1.5s", "99999999999999999999y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(60_500), "1m500ms");
        assert_eq!(format_duration(1_209_600_000), "2w");
        assert_eq!(format_duration(8 * 86_400_000), "8d");
        assert_eq!(format_duration(90 * 86_400_000), "90d");
        assert_eq!(format_duration(365 * 86_400_000 + 86_400_000), "366d");
        assert_eq!(format_duration(2 * 365 * 86_400_000), "2y");
        assert_eq!(format_duration(86_400_000 + 1), "1d1ms");
        assert_eq!(format_duration(-1000), "");
    }
}
