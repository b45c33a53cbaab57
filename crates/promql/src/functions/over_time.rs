//! `*_over_time` aggregations, `changes`, `resets` and `double_exponential_smoothing`.

use super::kahan;
use super::quantile::quantile;
use super::window::Window;

pub(crate) fn avg_over_time(w: &Window) -> Option<f64> {
    let s = w.samples;
    let first = s.first()?;
    let (mut sum, mut count, mut mean, mut c) = (first.v, 1.0, 0.0, 0.0);
    let mut incremental = false;
    for (i, p) in s[1..].iter().enumerate() {
        count = (i + 2) as f64;
        if !incremental {
            let (ns, nc) = kahan::inc(p.v, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan::inc(p.v / count, q * mean, q * c);
    }
    if incremental {
        return Some(mean + c);
    }
    Some(sum / count + c / count)
}

pub(crate) fn sum_over_time(w: &Window) -> Option<f64> {
    w.samples.first()?;
    let (mut sum, mut c) = (0.0, 0.0);
    for p in w.samples {
        (sum, c) = kahan::inc(p.v, sum, c);
    }
    if sum.is_infinite() {
        return Some(sum);
    }
    Some(sum + c)
}

pub(crate) fn count_over_time(w: &Window) -> Option<f64> {
    w.samples.first()?;
    Some(w.samples.len() as f64)
}

fn compare_over_time(w: &Window, better: fn(f64, f64) -> bool, want_ts: bool) -> Option<f64> {
    let first = w.samples.first()?;
    let (mut best, mut ts) = (first.v, first.t);
    for p in w.samples {
        if better(p.v, best) {
            best = p.v;
            ts = p.t;
        }
    }
    Some(if want_ts { ts as f64 / 1000.0 } else { best })
}

pub(crate) fn max_over_time(w: &Window) -> Option<f64> {
    compare_over_time(w, |cur, m| cur > m || m.is_nan(), false)
}

pub(crate) fn min_over_time(w: &Window) -> Option<f64> {
    compare_over_time(w, |cur, m| cur < m || m.is_nan(), false)
}

pub(crate) fn ts_of_max_over_time(w: &Window) -> Option<f64> {
    compare_over_time(w, |cur, m| cur >= m || m.is_nan(), true)
}

pub(crate) fn ts_of_min_over_time(w: &Window) -> Option<f64> {
    compare_over_time(w, |cur, m| cur <= m || m.is_nan(), true)
}

pub(crate) fn last_over_time(w: &Window) -> Option<f64> {
    w.samples.last().map(|s| s.v)
}

pub(crate) fn first_over_time(w: &Window) -> Option<f64> {
    w.samples.first().map(|s| s.v)
}

pub(crate) fn ts_of_last_over_time(w: &Window) -> Option<f64> {
    w.samples.last().map(|s| s.t as f64 / 1000.0)
}

pub(crate) fn ts_of_first_over_time(w: &Window) -> Option<f64> {
    w.samples.first().map(|s| s.t as f64 / 1000.0)
}

pub(crate) fn present_over_time(w: &Window) -> Option<f64> {
    w.samples.first().map(|_| 1.0)
}

pub(crate) fn quantile_over_time(w: &Window) -> Option<f64> {
    w.samples.first()?;
    let mut v: Vec<f64> = w.samples.iter().map(|s| s.v).collect();
    Some(quantile(w.params[0], &mut v))
}

pub(crate) fn mad_over_time(w: &Window) -> Option<f64> {
    w.samples.first()?;
    if w.samples.iter().any(|s| s.v.is_nan()) {
        return Some(f64::NAN);
    }
    let mut v: Vec<f64> = w.samples.iter().map(|s| s.v).collect();
    let median = quantile(0.5, &mut v);
    v.iter_mut().for_each(|x| *x = (*x - median).abs());
    Some(quantile(0.5, &mut v))
}

fn variance_over_time(w: &Window) -> Option<f64> {
    w.samples.first()?;
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in w.samples {
        count += 1.0;
        let delta = p.v - (mean + c_mean);
        (mean, c_mean) = kahan::inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan::inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

pub(crate) fn stdvar_over_time(w: &Window) -> Option<f64> {
    variance_over_time(w)
}

pub(crate) fn stddev_over_time(w: &Window) -> Option<f64> {
    variance_over_time(w).map(f64::sqrt)
}

pub(crate) fn changes(w: &Window) -> Option<f64> {
    let first = w.samples.first()?;
    let mut prev = first.v;
    let mut n = 0;
    for p in &w.samples[1..] {
        if p.v != prev && !(p.v.is_nan() && prev.is_nan()) {
            n += 1;
        }
        prev = p.v;
    }
    Some(n as f64)
}

pub(crate) fn resets(w: &Window) -> Option<f64> {
    let first = w.samples.first()?;
    let mut prev = first.v;
    let mut n = 0;
    for p in &w.samples[1..] {
        if p.v < prev {
            n += 1;
        }
        prev = p.v;
    }
    Some(n as f64)
}

fn trend(i: usize, tf: f64, s0: f64, s1: f64, b: f64) -> f64 {
    if i == 0 {
        return b;
    }
    tf * (s1 - s0) + (1.0 - tf) * b
}

/// `double_exponential_smoothing(v, sf, tf)`; factors are validated by the caller.
pub(crate) fn double_exponential_smoothing(w: &Window) -> Option<f64> {
    let s = w.samples;
    if s.len() < 2 {
        return None;
    }
    let (sf, tf) = (w.params[0], w.params[1]);
    let (mut s0, mut s1, mut b) = (0.0, s[0].v, s[1].v - s[0].v);
    for (i, p) in s.iter().enumerate().skip(1) {
        let x = sf * p.v;
        b = trend(i - 1, tf, s0, s1, b);
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Some(s1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Sample;

    fn win(v: &[f64]) -> Vec<Sample> {
        v.iter().enumerate().map(|(i, x)| Sample::new(i as i64 * 1000, *x)).collect()
    }

    fn w(s: &[Sample]) -> Window<'_> {
        Window {
            samples: s,
            range_start: -1,
            range_end: 10_000,
            range: 10_001,
            step_ts: 10_000,
            params: [0.5, 0.5],
            no_resets: false,
        }
    }

    #[test]
    fn aggregations() {
        let s = win(&[1.0, 2.0, 3.0, 10.0]);
        assert_eq!(avg_over_time(&w(&s)), Some(4.0));
        assert_eq!(sum_over_time(&w(&s)), Some(16.0));
        assert_eq!(max_over_time(&w(&s)), Some(10.0));
        assert_eq!(min_over_time(&w(&s)), Some(1.0));
        assert_eq!(count_over_time(&w(&s)), Some(4.0));
        assert_eq!(quantile_over_time(&w(&s)), Some(2.5));
        assert_eq!(changes(&w(&s)), Some(3.0));
        assert_eq!(resets(&w(&win(&[3.0, 1.0, 2.0, 0.0]))), Some(2.0));
        assert_eq!(stdvar_over_time(&w(&win(&[1.0, 3.0]))), Some(1.0));
        assert_eq!(avg_over_time(&w(&[])), None);
    }
}
