//! Go-compatible float formatting for messages (`%g`).

/// Formats like Go's `fmt.Sprintf("%g", v)` (shortest representation): `model::go_float::g`.
pub(crate) fn go_g(v: f64) -> String {
    model::go_float::g(v)
}

/// Formats like Go's `%.2g` (two significant digits).
pub(crate) fn go_g2(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return go_g(v);
    }
    let e = format!("{v:.1e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mant = mant.trim_end_matches('0').trim_end_matches('.');
    if !(-4..2).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let digits = (1 - exp).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::go_g;

    #[test]
    fn like_go() {
        assert_eq!(go_g(1.5), "1.5");
        assert_eq!(go_g(-0.5), "-0.5");
        assert_eq!(go_g(f64::NAN), "NaN");
        assert_eq!(go_g(1e-7), "1e-07");
        assert_eq!(go_g(100.0), "100");
        assert_eq!(go_g(1e6), "1e+06");
    }
}
