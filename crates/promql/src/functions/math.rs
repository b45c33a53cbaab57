//! Element-wise math and trigonometry functions, and Go-compatible `pow`.

/// The element-wise function for `name`, if it is one.
pub(crate) fn simple_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => go_log,
        "log2" => go_log2,
        "log10" => go_log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => go_sinh,
        "cosh" => go_cosh,
        "tanh" => f64::tanh,
        "asinh" => go_asinh,
        "acosh" => go_acosh,
        "atanh" => go_atanh,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "sgn" => sgn,
        _ => return None,
    })
}

/// Go's `math.Sinh`: `exp(x) / 2` beyond 21, so it overflows where `exp` does (from about
/// 709.78, where a correctly rounded sinh is still finite), `(e^x - e^-x) / 2` beyond 0.5, and
/// Hart & Cheney's rational approximation below.
fn go_sinh(x: f64) -> f64 {
    // Go's coefficients, as the nearest doubles.
    const P: [f64; 4] = [
        -630_767.364_049_771_7,
        -89_912.720_220_395_09,
        -2_894.211_355_989_564,
        -26.305_632_133_974_97,
    ];
    const Q: [f64; 3] = [-630_767.364_049_771_7, 15_215.173_787_900_19, -173.678_953_558_233_7];
    let ax = x.abs();
    let t = if ax > 21.0 {
        ax.exp() * 0.5
    } else if ax > 0.5 {
        let ex = ax.exp();
        (ex - 1.0 / ex) * 0.5
    } else {
        let sq = ax * ax;
        (((P[3] * sq + P[2]) * sq + P[1]) * sq + P[0]) * ax
            / (((sq + Q[2]) * sq + Q[1]) * sq + Q[0])
    };
    if x < 0.0 { -t } else { t }
}

/// Go's `math.Cosh`: `exp(|x|) / 2` beyond 21 (overflowing with `exp`), else `(e^x + e^-x) / 2`.
fn go_cosh(x: f64) -> f64 {
    let ax = x.abs();
    if ax > 21.0 {
        return ax.exp() * 0.5;
    }
    let ex = ax.exp();
    (ex + 1.0 / ex) * 0.5
}

const LN_2: f64 = std::f64::consts::LN_2;
const LARGE: f64 = (1u64 << 28) as f64;
const NEAR_ZERO: f64 = 1.0 / LARGE;

/// Go's `math.Asinh`: `ln(x) + ln 2` beyond 2^28, so huge values stay finite.
fn go_asinh(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x;
    }
    let ax = x.abs();
    let t = if ax > LARGE {
        go_log(ax) + LN_2
    } else if ax > 2.0 {
        go_log(2.0 * ax + 1.0 / ((ax * ax + 1.0).sqrt() + ax))
    } else if ax < NEAR_ZERO {
        ax
    } else {
        (ax + ax * ax / (1.0 + (1.0 + ax * ax).sqrt())).ln_1p()
    };
    if x < 0.0 { -t } else { t }
}

/// Go's `math.Acosh`: `ln(x) + ln 2` from 2^28 (finite up to the largest float).
fn go_acosh(x: f64) -> f64 {
    if x < 1.0 || x.is_nan() {
        return f64::NAN;
    }
    if x == 1.0 {
        return 0.0;
    }
    if x >= LARGE {
        return go_log(x) + LN_2;
    }
    if x > 2.0 {
        return go_log(2.0 * x - 1.0 / (x + (x * x - 1.0).sqrt()));
    }
    let t = x - 1.0;
    (t + (2.0 * t + t * t).sqrt()).ln_1p()
}

/// Go's `math.Atanh`.
fn go_atanh(x: f64) -> f64 {
    if !(-1.0..=1.0).contains(&x) || x.is_nan() {
        return f64::NAN;
    }
    if x == 1.0 || x == -1.0 {
        return f64::INFINITY.copysign(x);
    }
    let ax = x.abs();
    let t = if ax < NEAR_ZERO {
        ax
    } else if ax < 0.5 {
        let t = ax + ax;
        0.5 * (t + t * ax / (1.0 - ax)).ln_1p()
    } else {
        0.5 * ((ax + ax) / (1.0 - ax)).ln_1p()
    };
    if x < 0.0 { -t } else { t }
}

/// Go's `math.Log10`: `Log(x) * (1/Ln10)`, which rounds differently from a direct `log10`.
fn go_log10(v: f64) -> f64 {
    // Go's `1/Ln10` is the constant divided exactly, then rounded: LOG10_E, one ulp above
    // the float division `1.0 / LN_10`.
    go_log(v) * std::f64::consts::LOG10_E
}

/// Go's `math.Log` as its amd64 assembly computes it (FreeBSD's algorithm: the reduction
/// `x = f1 * 2^k`, then a polynomial in `s = f / (2 + f)`). The assembly splits `x` into
/// mantissa and exponent bits without normalising subnormals first, so for them it returns
/// `ln(0.5 + m * 2^-53) - 1022 ln 2` (about -709.09 for 5e-324, not -744.44) — which is what
/// Prometheus on amd64 returns.
pub(crate) fn go_log(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    const L1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
    const L2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
    const L3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
    const L4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
    const L5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
    const L6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
    const L7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let bits = x.to_bits();
    let mut f1 = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FE0_0000_0000_0000);
    let mut ki = ((bits >> 52) & 0x7ff) as i64 - 0x3FE;
    // `CMPSD ..., 5` (not less than): f1 <= sqrt(2)/2 (0.7071067811865476 as Go rounds it).
    if f1 <= std::f64::consts::SQRT_2 / 2.0 {
        f1 *= 2.0;
        ki -= 1;
    }
    let f = f1 - 1.0;
    let k = ki as f64;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
    let t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Go's `math.Log2`: exact for powers of two, else `ln(frac) * (1/Ln2) + exp` with
/// `v = frac * 2^exp`, `frac` in [0.5, 1).
fn go_log2(v: f64) -> f64 {
    let (frac, exp) = frexp(v);
    if frac == 0.5 {
        return f64::from(exp - 1);
    }
    go_log(frac) * std::f64::consts::LOG2_E + f64::from(exp)
}

/// `v = frac * 2^exp` with `|frac|` in [0.5, 1); zero, infinities and NaN are returned as is.
fn frexp(v: f64) -> (f64, i32) {
    if v == 0.0 || !v.is_finite() {
        return (v, 0);
    }
    let (mut v, mut exp) = (v, 0i32);
    if v.abs() < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        v *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = v.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `round(v, to_nearest)` as Prometheus computes it.
pub(crate) fn round(v: f64, to_nearest: f64) -> f64 {
    let inv = 1.0 / to_nearest;
    (v * inv + 0.5).floor() / inv
}

/// `clamp(v, min, max)`: `max(min, min(max, v))` with Go's NaN rules.
pub(crate) fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    go_max(lo, go_min(hi, v))
}

/// Go's `math.Max`: `+Inf` wins over NaN, then NaN wins, and `+0` over `-0`.
fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && a == b {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: `-Inf` wins over NaN, then NaN wins, and `-0` over `+0`.
fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && a == b {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// `x ^ y` as Go's `math.Pow` computes it: its special cases, then the fraction of `y` through
/// `exp(yf * ln(x))` and its integer part by repeated squaring of `x`'s mantissa with the
/// exponent kept apart. Integer exponents are exact to the bit (the same multiplications in the
/// same order); fractional ones go through this platform's `exp` and `ln`, which Go's versions
/// may differ from in the last place.
pub(crate) fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        let odd_neg = x.is_sign_negative() && is_odd_int(y);
        return if y < 0.0 {
            if odd_neg { f64::NEG_INFINITY } else { f64::INFINITY }
        } else if odd_neg {
            x
        } else {
            0.0
        };
    }
    if y.is_infinite() {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if x.is_infinite() {
        if x < 0.0 {
            return go_pow(1.0 / x, -y); // Pow(-0, -y)
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let (mut yi, mut yf) = (y.abs().trunc(), y.abs().fract());
    if yf != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if yi >= 9_223_372_036_854_775_808.0 {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let mut a1 = 1.0;
    let mut ae: i64 = 0;
    if yf != 0.0 {
        if yf > 0.5 {
            yf -= 1.0;
            yi += 1.0;
        }
        a1 = (yf * go_log(x)).exp();
    }
    let (mut x1, xe) = frexp(x);
    let mut xe = i64::from(xe);
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            // Catastrophic overflow: ldexp handles it.
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    go_ldexp(a1, ae)
}

fn is_odd_int(x: f64) -> bool {
    if x.abs() >= 9_007_199_254_740_992.0 {
        return false;
    }
    x.fract() == 0.0 && (x.trunc() as i64) & 1 == 1
}

/// Go's `math.Ldexp`: `frac * 2^exp` with one rounding for subnormal results.
fn go_ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || !frac.is_finite() {
        return frac;
    }
    let (frac, e) =
        if frac.abs() < f64::MIN_POSITIVE { (frac * (1u64 << 52) as f64, -52) } else { (frac, 0) };
    let mut exp = exp.saturating_add(e);
    let bits = frac.to_bits();
    exp = exp.saturating_add(((bits >> 52) & 0x7ff) as i64 - 1023);
    if exp < -1075 {
        return 0.0_f64.copysign(frac);
    }
    if exp > 1023 {
        return if frac < 0.0 { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    let mut m = 1.0;
    if exp < -1022 {
        exp += 53;
        m = 1.0 / (1u64 << 53) as f64;
    }
    let bits = (bits & !(0x7ff << 52)) | (((exp + 1023) as u64) << 52);
    m * f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_logs_are_exact_on_powers_and_split_frexp() {
        assert_eq!(go_log2(8.0), 3.0);
        assert_eq!(go_log2(0.25), -2.0);
        // Prometheus 2.42 on amd64 prints 3 (log10(vector(1000)) in the differential test).
        assert_eq!(go_log10(1000.0), 3.0);
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
        assert!(go_log2(f64::NAN).is_nan());
        assert_eq!(go_log2(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn rounding_and_clamping() {
        assert_eq!(round(2.5, 1.0), 3.0);
        assert_eq!(round(-2.5, 1.0), -2.0);
        assert_eq!(round(12.34, 0.1), 12.3);
        assert_eq!(clamp(5.0, 0.0, 3.0), 3.0);
        assert!(clamp(f64::NAN, 0.0, 3.0).is_nan());
        // Go's math.Max/Min: an infinity on the winning side beats NaN; signed zeros.
        assert_eq!(clamp(f64::INFINITY, f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(clamp(f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NAN), f64::NEG_INFINITY);
        assert!(clamp(f64::INFINITY, f64::NAN, 5.0).is_nan());
        assert!(clamp(-0.0, 0.0, 1.0).is_sign_positive());
        assert!(clamp(0.0, -1.0, -0.0).is_sign_negative());
        assert_eq!(go_pow(f64::NAN, 0.0), 1.0);
        // Go's amd64 Log: subnormals are not normalised.
        assert_eq!(go_log(5e-324), -709.089_565_712_824_1);
        assert_eq!(go_log(1.0), 0.0);
        assert_eq!(go_log(0.0), f64::NEG_INFINITY);
        assert!(go_log(-1.0).is_nan());
        // Go's hyperbolic functions overflow with exp and stay finite on huge inputs.
        assert_eq!(go_cosh(710.0), f64::INFINITY);
        assert_eq!(go_sinh(-710.0), f64::NEG_INFINITY);
        assert!((go_acosh(1e308) - 709.889_355_822_726).abs() < 1e-9);
        assert!((go_asinh(-1e308) + 709.889_355_822_726).abs() < 1e-9);
        assert_eq!(go_atanh(-1.0), f64::NEG_INFINITY);
        assert!((go_sinh(0.3) - 0.3f64.sinh()).abs() < 1e-16);
        // Integer powers multiply mantissas as Go does (not a correctly rounded pow).
        assert_eq!(go_pow(3.0, 3.0), 27.0);
        assert_eq!(go_pow(2.0, -2.0), 0.25);
        assert_eq!(go_pow(-2.0, 3.0), -8.0);
        assert_eq!(go_pow(-0.0, -3.0), f64::NEG_INFINITY);
        assert_eq!(go_pow(f64::NEG_INFINITY, 3.0), f64::NEG_INFINITY);
        assert_eq!(go_pow(f64::NEG_INFINITY, -3.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(go_pow(-1.0, f64::INFINITY), 1.0);
        assert_eq!(go_pow(0.5, f64::INFINITY), 0.0);
        assert!(go_pow(-8.0, 1.0 / 3.0).is_nan());
        assert_eq!(go_pow(2.0, 1074.0), f64::INFINITY);
        assert_eq!(go_pow(2.0, -1074.0), 5e-324);
        assert_eq!(go_pow(2.0, -1080.0), 0.0);
        assert_eq!(simple_fn("sgn").unwrap()(-3.0), -1.0);
    }
}
