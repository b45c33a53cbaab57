//! A summary as client_golang keeps one: the sum and count of every observation, and quantiles
//! over the observations of the last ten minutes (`DefMaxAge`), NaN when there are none.
//!
//! Observed once per scrape, sync or refresh (never per sample): one short lock each.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// How long an observation counts towards the quantiles (client_golang's `DefMaxAge`).
pub const MAX_AGE: Duration = Duration::from_secs(600);
/// At most this many recent observations are kept for the quantiles.
const MAX_OBSERVATIONS: usize = 8192;

/// The quantiles of `prometheus_target_interval_length_seconds`,
/// `prometheus_target_sync_length_seconds` and `prometheus_target_reload_length_seconds`.
pub const SCRAPE_OBJECTIVES: &[f64] = &[0.01, 0.05, 0.5, 0.9, 0.99];
/// The quantiles of the service-discovery summaries (`prometheus_sd_*_duration_seconds`).
pub const SD_OBJECTIVES: &[f64] = &[0.5, 0.9, 0.99];

/// A summary's values at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummarySnapshot {
    /// (quantile, value) for each objective; NaN without recent observations.
    pub quantiles: Vec<(f64, f64)>,
    pub sum: f64,
    pub count: u64,
}

#[derive(Debug, Default)]
struct State {
    window: VecDeque<(Instant, f64)>,
    sum: f64,
    count: u64,
}

impl State {
    fn expire(&mut self, now: Instant) {
        while self.window.front().is_some_and(|(t, _)| now.saturating_duration_since(*t) > MAX_AGE)
        {
            self.window.pop_front();
        }
        while self.window.len() > MAX_OBSERVATIONS {
            self.window.pop_front();
        }
    }
}

/// A summary with fixed quantile objectives.
#[derive(Debug)]
pub struct Summary {
    objectives: &'static [f64],
    state: Mutex<State>,
}

impl Summary {
    pub fn new(objectives: &'static [f64]) -> Summary {
        Summary { objectives, state: Mutex::new(State::default()) }
    }

    pub fn observe(&self, v: f64) {
        self.observe_at(Instant::now(), v);
    }

    pub fn observe_at(&self, now: Instant, v: f64) {
        let mut s = self.state.lock();
        s.sum += v;
        s.count += 1;
        if !self.objectives.is_empty() {
            s.window.push_back((now, v));
            s.expire(now);
        }
    }

    pub fn snapshot(&self) -> SummarySnapshot {
        self.snapshot_at(Instant::now())
    }

    pub fn snapshot_at(&self, now: Instant) -> SummarySnapshot {
        let mut s = self.state.lock();
        s.expire(now);
        let mut values: Vec<f64> = s.window.iter().map(|(_, v)| *v).collect();
        values.sort_by(f64::total_cmp);
        let quantiles = self.objectives.iter().map(|&q| (q, rank_quantile(&values, q))).collect();
        SummarySnapshot { quantiles, sum: s.sum, count: s.count }
    }
}

/// The observation of rank `ceil(q * n)` in `sorted`, NaN if empty.
fn rank_quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_cover_the_last_ten_minutes_and_sum_count_everything() {
        let s = Summary::new(SCRAPE_OBJECTIVES);
        let t0 = Instant::now();
        assert!(s.snapshot_at(t0).quantiles.iter().all(|(_, v)| v.is_nan()));
        for i in 1..=100 {
            s.observe_at(t0, f64::from(i));
        }
        let snap = s.snapshot_at(t0);
        let want = [(0.01, 1.0), (0.05, 5.0), (0.5, 50.0), (0.9, 90.0), (0.99, 99.0)];
        assert_eq!(snap.quantiles, want);
        assert_eq!((snap.sum, snap.count), (5050.0, 100));
        let later = t0 + Duration::from_secs(601);
        s.observe_at(later, 7.0);
        let snap = s.snapshot_at(later);
        assert!(snap.quantiles.iter().all(|(_, v)| *v == 7.0), "{snap:?}");
        assert_eq!(snap.count, 101);
    }

    #[test]
    fn no_objectives_keeps_only_sum_and_count() {
        let s = Summary::new(&[]);
        s.observe(0.5);
        s.observe(0.25);
        let snap = s.snapshot();
        assert!(snap.quantiles.is_empty());
        assert_eq!((snap.sum, snap.count), (0.75, 2));
    }
}
