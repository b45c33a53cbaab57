//! Kahan-Neumaier summation exactly as Prometheus' `kahansum.Inc`.

/// Adds `inc` to `(sum, c)` and returns the new `(sum, c)`.
pub(crate) fn inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn compensates_lost_low_bits() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = super::inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }
}
