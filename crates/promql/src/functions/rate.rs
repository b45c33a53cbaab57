//! `rate`, `increase`, `delta` (Prometheus' extrapolation), `irate`, `idelta`, `deriv`,
//! `predict_linear`.

use super::kahan;
use super::window::Window;

/// Prometheus' `extrapolatedRate` for float samples.
fn extrapolated(w: &Window, is_counter: bool, is_rate: bool) -> Option<f64> {
    let s = w.samples;
    if s.len() < 2 {
        return None;
    }
    let n1 = s.len() - 1;
    let (first_t, last_t) = (s[0].t, s[n1].t);
    let mut result = s[n1].v - s[0].v;
    if is_counter && !w.no_resets {
        for pair in s.windows(2) {
            if pair[1].v < pair[0].v {
                result += pair[0].v;
            }
        }
    }
    let mut to_start = (first_t - w.range_start) as f64 / 1000.0;
    let mut to_end = (w.range_end - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let avg = sampled / n1 as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter {
        let mut to_zero = to_start;
        if result > 0.0 && s[0].v >= 0.0 {
            to_zero = sampled * (s[0].v / result);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = 1.0;
    if sampled != 0.0 {
        factor = (sampled + to_start + to_end) / sampled;
    }
    if is_rate {
        factor /= w.range as f64 / 1000.0;
    }
    Some(result * factor)
}

pub(crate) fn rate(w: &Window) -> Option<f64> {
    extrapolated(w, true, true)
}

pub(crate) fn increase(w: &Window) -> Option<f64> {
    extrapolated(w, true, false)
}

pub(crate) fn delta(w: &Window) -> Option<f64> {
    extrapolated(w, false, false)
}

fn instant_value(w: &Window, is_rate: bool) -> Option<f64> {
    let s = w.samples;
    if s.len() < 2 {
        return None;
    }
    let (a, b) = (s[s.len() - 2], s[s.len() - 1]);
    let interval = b.t - a.t;
    if interval == 0 {
        return None;
    }
    let mut v = b.v;
    if !is_rate || b.v >= a.v || b.v.is_nan() || a.v.is_nan() {
        v = b.v - a.v;
    }
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Some(v)
}

pub(crate) fn irate(w: &Window) -> Option<f64> {
    instant_value(w, true)
}

pub(crate) fn idelta(w: &Window) -> Option<f64> {
    instant_value(w, false)
}

/// Least-squares slope and intercept at `intercept_time`, as Prometheus computes them.
fn linear_regression(w: &Window, intercept_time: i64) -> (f64, f64) {
    let s = w.samples;
    let mut n = 0.0;
    let (mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = s[0].v;
    let mut const_y = true;
    for (i, p) in s.iter().enumerate() {
        if const_y && i > 0 && p.v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1e3;
        (sx, cx) = kahan::inc(x, sx, cx);
        (sy, cy) = kahan::inc(p.v, sy, cy);
        (sxy, cxy) = kahan::inc(x * p.v, sxy, cxy);
        (sx2, cx2) = kahan::inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

pub(crate) fn deriv(w: &Window) -> Option<f64> {
    if w.samples.len() < 2 {
        return None;
    }
    Some(linear_regression(w, w.samples[0].t).0)
}

pub(crate) fn predict_linear(w: &Window) -> Option<f64> {
    if w.samples.len() < 2 {
        return None;
    }
    let (slope, intercept) = linear_regression(w, w.step_ts);
    Some(slope * w.params[0] + intercept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Sample;

    fn win(s: &[Sample], start: i64, end: i64) -> Window<'_> {
        Window {
            samples: s,
            range_start: start,
            range_end: end,
            range: end - start,
            step_ts: end,
            params: [0.0; 2],
            no_resets: false,
        }
    }

    #[test]
    fn rate_extrapolates_to_window_edges() {
        let s: Vec<Sample> = (1..=5).map(|i| Sample::new(i * 60_000, (i * 60) as f64)).collect();
        // Samples every minute, increasing by 1/s; window (0, 300s].
        let r = rate(&win(&s, 0, 300_000)).unwrap();
        assert!((r - 1.0).abs() < 1e-12, "{r}");
        assert_eq!(rate(&win(&s[..1], 0, 300_000)), None);
    }

    #[test]
    fn counter_resets_are_added() {
        let s = vec![Sample::new(10_000, 5.0), Sample::new(20_000, 1.0), Sample::new(30_000, 3.0)];
        let inc = increase(&win(&s, 5_000, 35_000)).unwrap();
        // raw increase 3 - 5 + 5 = 3 over 20 s, extrapolated by 5 s on each side.
        assert!((inc - 4.5).abs() < 1e-12, "{inc}");
    }

    #[test]
    fn irate_and_deriv() {
        let s = vec![Sample::new(0, 1.0), Sample::new(10_000, 3.0)];
        assert_eq!(irate(&win(&s, -1, 10_000)), Some(0.2));
        assert_eq!(deriv(&win(&s, -1, 10_000)), Some(0.2));
    }
}
