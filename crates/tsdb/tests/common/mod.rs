//! Helpers shared by the tsdb integration tests: every series and sample of a database in a
//! comparable form, and the series the restart tests write.

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
