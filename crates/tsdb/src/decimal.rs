//! Exact decimal scaling of float values, shared by the dense WAL records (`wal::dense`) and the
//! dense chunks (`chunkenc::dense`): `v` as an integer count of 10^-k units, when that count
//! divided by 10^k gives back `v` bit for bit.

/// 10^k for k up to 15, each exact in an f64 (the values `10f64.powi(k)` gives).
pub(crate) const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Integers up to 2^53 are exact in an f64.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// 10^k: from the table, and beyond it (only from corrupt input) from `powi`.
pub(crate) fn pow10(k: u32) -> f64 {
    match POW10.get(k as usize) {
        Some(p) => *p,
        None => 10f64.powi(k as i32),
    }
}

/// `v` as an integer number of 10^-k units, if that is exact.
pub(crate) fn scaled(v: f64, k: u32) -> Option<i64> {
    let p = pow10(k);
    let m = round_exact(v * p)?;
    ((m as f64 / p).to_bits() == v.to_bits()).then_some(m)
}

/// `v` as an integer number of 10^-k units, if dividing it first by 10^(k-s) and then by 10^s
/// gives back `v` bit for bit (values computed as, e.g., `microseconds / 1000.0 / 1000.0`).
pub(crate) fn scaled_split(v: f64, k: u32, s: u32) -> Option<i64> {
    let m = round_exact(v * pow10(k))?;
    ((m as f64 / pow10(k.checked_sub(s)?) / pow10(s)).to_bits() == v.to_bits()).then_some(m)
}

/// `x.round()` as an integer for |x| < 2^53 (`None` otherwise, NaN included), without the
/// library call: truncation plus the exact fractional part.
fn round_exact(x: f64) -> Option<i64> {
    // NaN fails this too.
    if x.abs().partial_cmp(&MAX_EXACT) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let t = x as i64;
    let frac = x - t as f64;
    Some(if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_equals_the_library_round() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut cases = vec![0.5, -0.5, 1.5, -2.5, 0.49999999999999994, 4503599627370495.5];
        cases.extend([MAX_EXACT - 1.0, -(MAX_EXACT - 1.0), MAX_EXACT, f64::NAN, f64::INFINITY]);
        for _ in 0..100_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let scale = 10f64.powi((x >> 59) as i32 - 8);
            cases.push(((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * scale * 1e9);
        }
        for c in cases {
            let want = c.round();
            let want = (want.abs() < MAX_EXACT).then_some(want as i64);
            assert_eq!(round_exact(c), want, "{c:e}");
        }
    }

    #[test]
    fn split_scaling_finds_values_divided_twice() {
        // node_exporter's pressure counters: microseconds / 1000.0 / 1000.0.
        let mut found = 0;
        for us in 12_758_174_780u64..12_758_174_780 + 2000 {
            let v = us as f64 / 1000.0 / 1000.0;
            assert_eq!(scaled_split(v, 6, 3), Some(us as i64), "{us}");
            if scaled(v, 6).is_none() {
                found += 1;
            }
        }
        // Some of them are no plain decimal at scale 6 (12779.920506999999 and the like).
        assert!(found > 0);
        assert_eq!(scaled_split(0.1, 2, 3), None);
        assert_eq!(scaled_split(f64::NAN, 6, 3), None);
    }

    #[test]
    fn the_power_table_equals_powi() {
        for k in 0..40 {
            assert_eq!(pow10(k).to_bits(), 10f64.powi(k as i32).to_bits(), "{k}");
        }
    }
}
