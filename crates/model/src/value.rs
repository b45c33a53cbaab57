//! Special float values: the staleness marker and helpers around it.
//!
//! Prometheus marks a series stale by writing a NaN with one specific bit pattern. Any other NaN
//! is an ordinary value. Compare bit patterns, never floats, to tell them apart.

/// The bit pattern of Prometheus' staleness-marker NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The bit pattern of the NaN that Go's `math.NaN()` returns (Prometheus' "normal" NaN).
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// The staleness marker as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True if `v` is exactly the staleness marker.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_a_nan_but_not_every_nan_is_stale() {
        assert!(stale_nan().is_nan());
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(!is_stale_nan(f64::from_bits(NORMAL_NAN_BITS)));
        assert!(!is_stale_nan(0.0));
    }
}
