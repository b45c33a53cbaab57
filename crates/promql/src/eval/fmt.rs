//! Go's `%.2g` for messages (`%g` itself is `model::go_float::g`).

/// Formats like Go's `%.2g` (two significant digits).
pub(crate) fn go_g2(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return model::go_float::g(v);
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
