//! Helpers shared by the tsdb integration tests: every series and sample of a database in a
//! comparable form, the series the restart tests write, and
//! the values the WAL tests give them.

#![allow(clippy::unwrap_used, dead_code)]

use model::{Labels, MatchType, Matcher};
use storage::{Queryable, collect_samples};
use tsdb::Db;

/// Every series with its samples as (timestamp, value bits), so NaNs compare exactly.
pub type Dump = Vec<(Labels, Vec<(i64, u64)>)>;

pub fn dump(db: &Db) -> Dump {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = [Matcher::new(MatchType::Regex, "__name__", ".+").unwrap()];
    let mut out = Vec::new();
    for s in q.select(true, None, &m).unwrap() {
        let mut s = s.unwrap();
        let samples = collect_samples(s.samples.as_mut()).unwrap();
        out.push((s.labels.clone(), samples.iter().map(|x| (x.t, x.v.to_bits())).collect()));
    }
    out
}

/// The series `m{i="<i>"}`.
pub fn series(i: usize) -> Labels {
    Labels::new([("__name__", "m"), ("i", &i.to_string())])
}

/// Step `step`'s value of series `series`: one of six kinds in turn (a constant, a two-decimal
/// counter, big powers, non-decimal floats, a negative decimal with a staleness marker every
/// seventh step, a value that changes every 50 steps).
pub fn value(series: usize, step: i64) -> f64 {
    match series % 6 {
        0 => 42.0,
        1 => (1000 + step * 37) as f64 / 100.0,
        2 => (step * step) as f64 * 1024.0,
        3 => (step as f64).sin(),
        4 if step % 7 == 0 => f64::from_bits(model::value::STALE_NAN_BITS),
        4 => -(step as f64) * 0.1,
        _ => (step / 50) as f64,
    }
}
